"""When a resource's health snapshot is worth writing again: its verdict or RPO bucket changed.

The monitor runs every 15 minutes; rewriting every resource's health item each run cost a write
per resource per run (and a stream record the notify filter then discards). It writes an item
only when what an operator would read differs: a status (overall, per region, of a replica, of
the circuit, of drills), a newer recovery point, or the age crossing into another quarter of
the RPO target; and at least daily, so the item never reaches its expiry while the resource is
protected.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from lifeboat.domain.health import ResourceHealth

# Under a week (the health item's expiry): a steady resource's item is rewritten daily.
REFRESH_AFTER = timedelta(days=1)
# Ages are compared in quarters of the RPO target.
_BUCKETS_PER_TARGET = 4


def fingerprint(health: ResourceHealth) -> str:
    """A digest of what an operator reads in the snapshot, ages in quarters of the target."""
    bucket = max(health.rpo_minutes / _BUCKETS_PER_TARGET, 1.0)
    summary = {
        "status": health.status.value,
        "regions": [
            (
                r.region,
                r.status.value,
                r.recovery_point_id,
                None if r.age_minutes is None else int(r.age_minutes // bucket),
            )
            for r in health.regions
        ],
        "lastBackup": health.last_backup_status.value if health.last_backup_status else None,
        "replicas": sorted((r.replica_arn, r.status.value) for r in health.replicas),
        "drill": (health.drill.overdue, health.drill.last_status.value if health.drill.last_status else None),
        "circuit": health.circuit_open is not None,
        "gaps": sorted(health.continuous_gaps),
    }
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:32]


def needs_write(digest: str, checked_at: datetime, saved: tuple[str, datetime] | None) -> bool:
    """``digest``: the new snapshot's fingerprint; ``saved``: the fingerprint and time of the item
    as last written (None: no item)."""
    if saved is None:
        return True
    saved_digest, written_at = saved
    return digest != saved_digest or checked_at - written_at >= REFRESH_AFTER
