"""The one console every command prints to."""

from __future__ import annotations

from pydantic import ValidationError
from rich.console import Console

__all__ = ["console", "problems", "refuse"]

console = Console()
if not console.is_terminal:  # CI logs and pipes: wide enough for the run table
    console = Console(width=180)


def problems(exc: ValidationError) -> str:
    """Each refused field and what is wrong with it, on one line."""
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}" for error in exc.errors()
    )


def refuse(what: str, exc: ValidationError) -> int:
    """Bad arguments: one line naming each field and what is wrong with it (no traceback);
    nothing has run. Returns the exit code for a usage error."""
    console.print(f"[red]invalid {what}:[/] {problems(exc)}", soft_wrap=True)
    return 2
