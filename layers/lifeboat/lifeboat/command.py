"""The installed ``lifeboat`` command: the cli with the demo's emulated account as its local mode.

The one place that joins the two: ``cli/`` knows only the ``LocalMode`` protocol and ``demo/``
implements it, so neither package imports the other's entry point.
"""

from __future__ import annotations

from lifeboat.cli import app, local_mode
from lifeboat.demo.local_mode import EmulatedAccount

__all__ = ["app"]

local_mode.register(EmulatedAccount())

if __name__ == "__main__":
    app()
