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
