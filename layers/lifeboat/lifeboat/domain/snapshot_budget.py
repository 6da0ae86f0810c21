"""How many manual snapshots a policy keeps per resource and region, against the account's quota.

RDS allows 100 manual DB snapshots (and 100 DB cluster snapshots) per region by default, shared
by every resource of the account. A policy whose tiers alone keep more than that for one resource
fills the quota however cleanup runs, and backups then fail. Sub-daily tiers reach their steady
state within days, so the projection looks one year ahead: a 7-year monthly tier counts the 12
points it keeps by then, and its later growth is what the preflight's quota check and cleanup's
make-room answer for.
"""

from __future__ import annotations

import math

from lifeboat.domain.policy import TIER_ORDER, Policy, Tier

DEFAULT_MANUAL_SNAPSHOT_QUOTA = 100
# Slots left free for restores, drills and the operator's own snapshots.
QUOTA_RESERVE = 5
PROJECTION_DAYS = 365

TIER_INTERVAL_HOURS: dict[Tier, float] = {
    Tier.HOURLY: 1,
    Tier.EVERY_6H: 6,
    Tier.DAILY: 24,
    Tier.WEEKLY: 7 * 24,
    Tier.MONTHLY: 365 / 12 * 24,
    Tier.YEARLY: 365 * 24,
}


def points_kept(retention_days: dict[Tier, int]) -> dict[Tier, int]:
    """Points of each tier one resource holds in a region a year from now (steady state for
    every tier kept a year or less)."""
    return {
        tier: math.ceil(min(days, PROJECTION_DAYS) * 24 / TIER_INTERVAL_HOURS[tier])
        for tier, days in retention_days.items()
    }


def quota_violations(policy: Policy, quota: int = DEFAULT_MANUAL_SNAPSHOT_QUOTA) -> list[str]:
    """The regions where one resource of ``policy`` alone would keep more manual snapshots than
    the quota leaves room for, saying by how much and which tiers make up the count."""
    room = quota - QUOTA_RESERVE
    regions = [("the source region", policy.effective_retention)]
    regions += [(t.region, policy.retention_in(t.region)) for t in policy.dr_regions]
    problems: list[str] = []
    for region, retention in regions:
        kept = points_kept(retention)
        total = sum(kept.values())
        if total <= room:
            continue
        parts = " + ".join(f"{kept[t]} {t.value}" for t in TIER_ORDER if t in kept)
        problems.append(
            f"policy {policy.name!r} ({policy.environment.value}): in {region}, one resource keeps "
            f"{total} manual snapshots within a year ({parts}); the manual snapshot quota of {quota} "
            f"per region leaves room for {room} ({QUOTA_RESERVE} kept free): {total - room} over. "
            "Shorten a tier's retention, or raise the quota in Service Quotas and set "
            "manualSnapshotQuota in the config"
        )
    return problems


# A cleanup run may delete half a day's expiry more than a day's: a backlog drains, never grows.
BACKLOG_DRAIN = 1.5


def points_per_day(policy: Policy) -> float:
    """Recovery points one resource of ``policy`` makes a day, in its source and DR regions.

    In steady state that is what it expires a day, the least a cleanup run must be able to delete."""
    if not policy.backups_enabled:
        return 0.0
    regions = [policy.effective_retention] + [policy.retention_in(t.region) for t in policy.dr_regions]
    return sum(24 / TIER_INTERVAL_HOURS[tier] for retention in regions for tier in retention)


def deletion_budget(ceiling: int, daily_expiry: int) -> int:
    """A run's deletion budget: the deployment's ceiling, raised to 1.5 days of the fleet's expiry.

    A fixed cap below what a fleet expires a day grows the backlog without bound until the
    manual-snapshot quota stops backups; a budget tied to the daily expiry keeps a runaway
    retention change (everything expired at once) to a day and a half of deletions a night."""
    return max(ceiling, math.ceil(daily_expiry * BACKLOG_DRAIN))
