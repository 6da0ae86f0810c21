"""The acts `lifeboat demo` plays after the daily backup run, in order.

Each act gets the running emulated account and the demo fleet, prints what it shows, and
returns an exit code (0 when everything it demonstrates ended as it should). A feature adds its
act by appending one function to ``ACTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from lifeboat.local.demo_retention import retention_plan_act
from lifeboat.local.drill_demo import drill_act
from lifeboat.local.fleet import DemoFleet
from lifeboat.local.health_demo import rpo_breach_act
from lifeboat.local.runtime import LocalCloud


@dataclass
class DemoContext:
    cloud: LocalCloud
    fleet: DemoFleet
    console: Console


Act = Callable[[DemoContext], int]

ACTS: list[Act] = [
    retention_plan_act,
    rpo_breach_act,
    drill_act,
]
