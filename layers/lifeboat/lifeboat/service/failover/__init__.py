"""Regional failover, step by step: readiness (a dry run stops there), promote or restore each
resource in the target region (or, failing an instance back home, rebuild its replica there
first), move the plan's DNS records, record RTO and data age."""

from __future__ import annotations

from lifeboat.service.failover.readiness import failover_operation_id, readiness
from lifeboat.service.failover.rebuild import in_sync, rebuild
from lifeboat.service.failover.record import record
from lifeboat.service.failover.steps import dns_in_sync, promote, promoted, switch_dns
from lifeboat.service.failover.verify import verify

__all__ = [
    "dns_in_sync",
    "failover_operation_id",
    "in_sync",
    "promote",
    "promoted",
    "readiness",
    "rebuild",
    "record",
    "switch_dns",
    "verify",
]
