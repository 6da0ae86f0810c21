"""The one console every command prints to."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from rich.console import Console

__all__ = ["console", "problems", "refuse", "request_or_refusal"]

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


def request_or_refusal(model: type[BaseModel], payload: dict[str, Any], what: str) -> dict[str, Any] | None:
    """Validate a workflow's input before starting anything (unset options left out): its JSON,
    or None once the bad fields are reported in one line, not by a failed run."""
    try:
        request = model.model_validate({k: v for k, v in payload.items() if v is not None})
    except ValidationError as exc:
        refuse(what, exc)
        return None
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
