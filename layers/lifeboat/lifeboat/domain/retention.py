"""Which recovery points cleanup may delete: tier windows applied inside guards no input disables.

Pure decisions only; the service reads the state table and the cloud. For every input:

- the newest valid recovery point of a resource in each region is kept;
- each region keeps at least the policy's minimum count (the newest valid points first);
- pinned points (forceRetain, legal hold) and points a running restore or drill uses are kept;
- points whose tags disagree with the state table (not made by Lifeboat) are never touched;
- a run deletes at most ``max_deletions`` points, oldest first; the rest are deferred.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from lifeboat.domain.models import CamelModel
from lifeboat.domain.policy import Tier

LEGAL_HOLD_TAG = "lifeboat:legal-hold"


def delete_operation_id(recovery_point: str, region: str) -> str:
    return f"delete:{recovery_point}:{region}"


class Action(StrEnum):
    KEEP = "KEEP"
    DELETE = "DELETE"
    DEFER = "DEFER"  # expired, but this run's deletion cap is reached


class Rule(StrEnum):
    """Why a point is kept or deleted; the first rule that applies wins, in this order."""

    NOT_OURS = "not-ours"
    PINNED = "pinned"
    IN_USE = "in-use"
    NEWEST_VALID = "newest-valid"
    MIN_COUNT = "min-count"
    RETAINED_BY_POLICY = "retained-by-policy"
    UNKNOWN_TIER = "unknown-tier"
    WITHIN_RETENTION = "within-retention"
    EXPIRED = "expired"
    DELETION_CAP = "deletion-cap"


class RecoveryPoint(CamelModel):
    """One recovery point in one region, as the state table records it."""

    recovery_point_id: str
    region: str
    operation_id: str
    tier: Tier | None
    taken_at: datetime
    valid: bool
    ours: bool = True
    pinned_by: str | None = None
    in_use_by: str | None = None


class RegionRules(CamelModel):
    retention_days: dict[Tier, int]
    min_count: int = Field(ge=1)


class Decision(CamelModel):
    point: RecoveryPoint
    action: Action
    rule: Rule
    reason: str


def decide(
    points: Iterable[RecoveryPoint],
    rules_for: Callable[[str], RegionRules],
    now: datetime,
    *,
    retain_all: str | None = None,
) -> list[Decision]:
    """KEEP or DELETE each point of one resource; ``retain_all`` names why nothing may expire."""
    by_region: dict[str, list[RecoveryPoint]] = defaultdict(list)
    for point in points:
        by_region[point.region].append(point)
    decisions: list[Decision] = []
    for region in sorted(by_region):
        decisions += _decide_region(by_region[region], rules_for(region), now, retain_all)
    return decisions


def _newest_first(points: list[RecoveryPoint]) -> list[RecoveryPoint]:
    return sorted(points, key=lambda p: (p.taken_at, p.recovery_point_id), reverse=True)


@dataclass(frozen=True)
class _Region:
    """What the decisions of one region share."""

    rules: RegionRules
    now: datetime
    retain_all: str | None
    newest_valid: str | None
    newest_valid_ids: frozenset[str]


def _decide_region(
    points: list[RecoveryPoint], rules: RegionRules, now: datetime, retain_all: str | None
) -> list[Decision]:
    ordered = _newest_first(points)
    valid = [p for p in ordered if p.valid and p.ours]
    region = _Region(
        rules=rules,
        now=now,
        retain_all=retain_all,
        newest_valid=valid[0].operation_id if valid else None,
        newest_valid_ids=frozenset(p.operation_id for p in valid[: rules.min_count]),
    )
    decisions = [_decide_point(p, region) for p in ordered]
    # Fewer valid points than the minimum: keep the newest of the others too, up to the minimum.
    kept = sum(1 for d in decisions if d.point.ours and d.action is Action.KEEP)
    for i, decision in enumerate(decisions):
        if kept >= rules.min_count:
            break
        if decision.action is Action.DELETE:
            decisions[i] = _keep(
                decision.point,
                Rule.MIN_COUNT,
                f"one of the newest {rules.min_count} points in {decision.point.region} (minimum count)",
            )
            kept += 1
    return decisions


def _guard(point: RecoveryPoint, region: _Region) -> tuple[Rule, str] | None:
    """The first guard that keeps ``point`` whatever its age, if any."""
    min_count = region.rules.min_count
    guards = (
        (not point.ours, Rule.NOT_OURS, "tags disagree with the state table: not Lifeboat's to delete"),
        (bool(point.pinned_by), Rule.PINNED, f"pinned by {point.pinned_by}"),
        (bool(point.in_use_by), Rule.IN_USE, f"used by running operation {point.in_use_by}"),
        (
            point.operation_id == region.newest_valid,
            Rule.NEWEST_VALID,
            f"newest valid recovery point in {point.region}",
        ),
        (
            point.operation_id in region.newest_valid_ids,
            Rule.MIN_COUNT,
            f"one of the newest {min_count} valid points in {point.region} (minimum count)",
        ),
        (region.retain_all is not None, Rule.RETAINED_BY_POLICY, region.retain_all or ""),
    )
    return next(((rule, reason) for hit, rule, reason in guards if hit), None)


def _decide_point(point: RecoveryPoint, region: _Region) -> Decision:
    guard = _guard(point, region)
    if guard is not None:
        return _keep(point, *guard)
    days = region.rules.retention_days.get(point.tier) if point.tier else None
    if point.tier is None or days is None:
        tier = point.tier.value if point.tier else "unrecorded"
        return _keep(point, Rule.UNKNOWN_TIER, f"{tier} tier has no retention in the policy; kept")
    expires = point.taken_at + timedelta(days=days)
    age = f"{point.tier.value}, {(region.now - point.taken_at).days}d old"
    if region.now < expires:
        return _keep(
            point,
            Rule.WITHIN_RETENTION,
            f"{age}; kept {days}d in {point.region} (until {expires:%Y-%m-%d})",
        )
    return Decision(
        point=point,
        action=Action.DELETE,
        rule=Rule.EXPIRED,
        reason=f"{age}; retention {days}d in {point.region}",
    )


def _keep(point: RecoveryPoint, rule: Rule, reason: str) -> Decision:
    return Decision(point=point, action=Action.KEEP, rule=rule, reason=reason)


def cap_deletions(decisions: list[Decision], max_deletions: int) -> list[Decision]:
    """Keep at most ``max_deletions`` DELETEs (the oldest points first); defer the others."""
    deletions = sorted(
        (d for d in decisions if d.action is Action.DELETE),
        key=lambda d: (d.point.taken_at, d.point.recovery_point_id, d.point.region),
    )
    deferred = {id(d) for d in deletions[max_deletions:]}
    return [
        Decision(
            point=d.point,
            action=Action.DEFER,
            rule=Rule.DELETION_CAP,
            reason=f"expired, deferred: this run's cap of {max_deletions} deletions is reached",
        )
        if id(d) in deferred
        else d
        for d in decisions
    ]
