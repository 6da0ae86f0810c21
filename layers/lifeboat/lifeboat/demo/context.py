"""What every demo act receives: the running emulated account, the demo fleet, the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from lifeboat.demo.fleet import DemoFleet
from lifeboat.local.runtime import LocalCloud


@dataclass
class DemoContext:
    cloud: LocalCloud
    fleet: DemoFleet
    console: Console


Act = Callable[[DemoContext], int]
