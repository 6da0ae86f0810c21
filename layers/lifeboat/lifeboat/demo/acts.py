"""The acts `lifeboat demo` plays after the daily backup run, in order.

Each act gets the running emulated account and the demo fleet, prints what it shows, and
returns an exit code (0 when everything it demonstrates ended as it should). A feature adds its
act by appending one function to ``ACTS``.
"""

from __future__ import annotations

from lifeboat.demo.context import Act
from lifeboat.demo.drill_act import drill_act
from lifeboat.demo.failover_act import failover_act
from lifeboat.demo.outage_act import region_outage_act
from lifeboat.demo.retention_act import retention_plan_act
from lifeboat.demo.rpo_breach import rpo_breach_act

__all__ = ["ACTS"]

ACTS: list[Act] = [
    retention_plan_act,
    rpo_breach_act,
    region_outage_act,
    drill_act,
    failover_act,
]
