"""What a policy's continuous protection asks of one resource and what is missing (pure).

The health check reads the facts from discovery's pages (retention, replication regions) and
the point-in-time reach per region; a gap is a sentence an operator acts on. A type with no
point-in-time mechanism is one gap (its snapshots are all it has), never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.policy import Policy


@dataclass(frozen=True)
class ContinuousFacts:
    """The resource's point-in-time recovery as AWS reports it now."""

    retention_days: int | None = None  # None: the type does not report one (DynamoDB)
    replicated_to: tuple[str, ...] = ()
    restorable: dict[str, datetime] = field(default_factory=dict)  # region -> newest reach


def continuous_gaps(policy: Policy, arn: str, facts: ContinuousFacts, unsupported: str | None) -> list[str]:
    """What ``policy.continuousProtection`` asks of ``arn`` that is not in place."""
    wanted = policy.continuous_protection
    if wanted is None:
        return []
    if unsupported:
        return [f"continuous protection not available: {unsupported}"]
    ref = ResourceRef.parse(arn)
    gaps: list[str] = []
    if facts.retention_days is not None and facts.retention_days < wanted.retention_days:
        gaps.append(
            f"automated backups kept {facts.retention_days} days, policy asks {wanted.retention_days} "
            "(the next backup run raises it)"
        )
    if ref.region not in facts.restorable:
        gaps.append(
            "no point-in-time restore possible in the source region (the next backup run turns it on)"
        )
    target = policy.automated_backups_region
    if target is not None and ref.kind == "db":
        if target.region not in facts.replicated_to:
            gaps.append(
                f"automated backups not replicated to {target.region} (the next backup run starts it)"
            )
        elif target.region not in facts.restorable:
            gaps.append(f"automated backups replicating to {target.region}, no restore window there yet")
    return gaps
