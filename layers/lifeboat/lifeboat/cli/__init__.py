"""The ``lifeboat`` command line: one module per command group, one shared console."""

from __future__ import annotations

from lifeboat.cli.main import app

__all__ = ["app"]
