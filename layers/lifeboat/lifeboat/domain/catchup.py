"""Which recovery points a DR region missed, for the next run to copy there (catch-up).

Pure: the caller passes a resource's operations from the state table. A point is missed in a
region when its source point is valid, its backup has ended, no copy of it in that region is
valid or still under way, and it is still inside that region's retention for its tier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lifeboat.domain.ids import scheduled_at_of_run
from lifeboat.domain.operations import Operation, OperationType
from lifeboat.domain.policy import Tier

__all__ = ["MAX_CATCH_UP_PER_REGION", "MissedCopy", "missed_copies", "skip_note"]

# One run copies at most this many missed points to a region (newest first); the next run
# goes on with the rest, so a long outage cannot make one run copy the whole history.
MAX_CATCH_UP_PER_REGION = 5


def skip_note(region: str) -> str:
    """The backup detail that says a missed copy to ``region`` will not be made."""
    return f"catchUpSkipped_{region}"


@dataclass(frozen=True)
class MissedCopy:
    recovery_point_id: str
    region: str
    tier: Tier
    scheduled_at: datetime
    run_id: str
    # Its backup already says this region's copy was skipped (backfill off): say it once.
    noted: bool = False


def missed_copies(
    operations: list[Operation],
    *,
    regions: Iterable[str],
    retention_days: Callable[[str, Tier], int | None],
    now: datetime,
    current_point: str,
) -> list[MissedCopy]:
    """The points each region missed, newest first, at most ``MAX_CATCH_UP_PER_REGION`` each."""
    covered = {
        (op.recovery_point_id, op.region)
        for op in operations
        if op.type is OperationType.COPY and (op.validated or not op.status.terminal)
    }
    backups = sorted(
        (
            op
            for op in operations
            if op.type is OperationType.BACKUP
            and op.validated
            and op.status.terminal
            and op.recovery_point_id
            and op.recovery_point_id != current_point
            and op.tier in set(Tier)
            and op.run_id
        ),
        key=lambda op: op.created_at,
        reverse=True,
    )
    missed: list[MissedCopy] = []
    for region in regions:
        in_region = 0
        for backup in backups:
            point, tier = str(backup.recovery_point_id), Tier(str(backup.tier))
            days = retention_days(region, tier)
            if (point, region) in covered or days is None or backup.created_at + timedelta(days=days) <= now:
                continue
            missed.append(
                MissedCopy(point, region, tier, scheduled_at_of_run(str(backup.run_id)), str(backup.run_id))
            )
            in_region += 1
            if in_region == MAX_CATCH_UP_PER_REGION:
                break
    return missed
