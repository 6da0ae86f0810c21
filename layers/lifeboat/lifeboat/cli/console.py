"""The one console every command prints to."""

from __future__ import annotations

from pydantic import ValidationError
from rich.console import Console

__all__ = ["console", "refuse"]

console = Console()
if not console.is_terminal:  # CI logs and pipes: wide enough for the run table
    console = Console(width=180)


def refuse(what: str, exc: ValidationError) -> int:
    """Bad arguments: one line naming each field and what is wrong with it (no traceback);
    nothing has run. Returns the exit code for a usage error."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}" for error in exc.errors()
    )
    console.print(f"[red]invalid {what}:[/] {problems}", soft_wrap=True)
    return 2
