"""``--local`` runs and ``lifeboat demo``: the cli parses and prints, the emulated account runs.

The emulated account comes with the demo fleet, which lives in ``lifeboat.demo``; that package
registers its implementation here (``lifeboat.command`` wires it), so ``cli/`` never imports the demo.
"""

from __future__ import annotations

from typing import Any, Protocol

import typer

from lifeboat.cli.console import console
from lifeboat.contracts.cleanup import CleanupRequest
from lifeboat.contracts.restore import DrillRunRequest
from lifeboat.domain.health import HealthReport
from lifeboat.domain.policy import Tier

__all__ = ["LocalMode", "local_mode", "register"]


class LocalMode(Protocol):
    """Each method seeds the emulated account, runs the workflow there, prints it, and returns
    the exit code (health returns the report; the health command prints and judges it)."""

    def demo(self, time_scale: float) -> int: ...

    def backup(self, tier: Tier, resources: list[str] | None) -> int: ...

    def cleanup(self, request: CleanupRequest) -> int: ...

    def health(self, resources: list[str] | None) -> HealthReport: ...

    def restore(self, payload: dict[str, Any]) -> int: ...

    def drill(self, request: DrillRunRequest) -> int: ...

    def failover(self, request: dict[str, Any]) -> int: ...

    def experiment(self, request: dict[str, Any], *, approve: bool) -> int: ...


_registered: list[LocalMode] = []


def register(mode: LocalMode) -> None:
    """Make ``mode`` the one that ``--local`` and ``lifeboat demo`` run on (the last one wins)."""
    _registered[:] = [mode]


def local_mode() -> LocalMode:
    """The registered local mode; a clear exit when the cli was started without one."""
    if not _registered:
        console.print(
            "[red]local mode is not available here:[/] it comes with the demo fleet; "
            "run the installed `lifeboat` command (lifeboat.command:app)"
        )
        raise typer.Exit(2)
    return _registered[0]
