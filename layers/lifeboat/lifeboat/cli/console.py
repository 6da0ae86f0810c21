"""The one console every command prints to."""

from __future__ import annotations

from rich.console import Console

__all__ = ["console"]

console = Console()
if not console.is_terminal:  # CI logs and pipes: wide enough for the run table
    console = Console(width=180)
