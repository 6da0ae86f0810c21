"""Backup policies and the environment rules of the product brief.

A policy is safe by default: anything an operator leaves out is filled in from the defaults of
its environment, and the result is checked against the rules before any backup runs.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise

from pydantic import Field, field_validator

from lifeboat.domain.arn import REGION_PATTERN
from lifeboat.domain.models import CamelModel
from lifeboat.domain.network import RestoreNetwork


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Tier(StrEnum):
    # Sub-daily tiers give a snapshot RPO under a day; they are opt-in (no environment default).
    HOURLY = "hourly"
    EVERY_6H = "every6h"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class RemovalPolicy(StrEnum):
    """What happens to a resource's recovery points once the resource itself is deleted.

    RETAIN keeps every point; SNAPSHOT and DESTROY let tier retention expire them, always inside
    the cleanup guards (the newest valid point per region is never deleted).
    """

    RETAIN = "RETAIN"
    SNAPSHOT = "SNAPSHOT"
    DESTROY = "DESTROY"


MIN_PROD_RETENTION_DAYS = 7
# Recent points on top of the daily ones: kept hours or days, so prod's 7-day minimum is met by
# the daily and longer tiers, not by 168 hourly snapshots.
SUB_DAILY_TIERS = frozenset({Tier.HOURLY, Tier.EVERY_6H})
MIN_PROD_DR_REGIONS = 2
DEFAULT_MIN_RECOVERY_POINTS = 3
DEFAULT_DRILL_MAX_AGE_DAYS = 30
# Longer tiers must keep at least as long as shorter ones, or a weekly point dies before a daily.
TIER_ORDER = (Tier.HOURLY, Tier.EVERY_6H, Tier.DAILY, Tier.WEEKLY, Tier.MONTHLY, Tier.YEARLY)

ENVIRONMENT_DEFAULTS: dict[Environment, dict[str, object]] = {
    Environment.DEV: {"enabled": False, "retention_days": {Tier.DAILY: 7}},
    Environment.STAGING: {"enabled": True, "retention_days": {Tier.DAILY: 14}},
    Environment.PROD: {
        "enabled": True,
        "retention_days": {Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 7 * 365},
    },
}


def _positive_days(value: dict[Tier, int] | None) -> dict[Tier, int] | None:
    for tier, days in (value or {}).items():
        if days <= 0:
            raise ValueError(f"retention for tier {tier} must be a positive number of days")
    return value


class DrTarget(CamelModel):
    """One disaster-recovery region and the KMS key copies are re-encrypted with there."""

    region: str = Field(pattern=REGION_PATTERN)
    kms_key_id: str | None = None
    # A DR region may keep copies longer than the source region (per tier, in days).
    retention_days: dict[Tier, int] | None = None
    # Subnet group, security groups, parameter group of restores into this region: the source's
    # names mean nothing in another region.
    restore_network: RestoreNetwork | None = None

    @field_validator("retention_days")
    @classmethod
    def _positive(cls, value: dict[Tier, int] | None) -> dict[Tier, int] | None:
        return _positive_days(value)


class DrillSettings(CamelModel):
    """Restore drills: which resources the schedule drills, where, into which isolated network."""

    enabled: bool = False
    # Default: the first DR region (a drill proves the DR copy), else the source region.
    region: str | None = Field(default=None, pattern=REGION_PATTERN)
    # An isolated subnet group / security group with no route to production.
    network: RestoreNetwork | None = None
    instance_class: str | None = None
    # A successful drill is due at least this often (the health check reports the age).
    max_age_days: int = Field(default=DEFAULT_DRILL_MAX_AGE_DAYS, gt=0)


class ContinuousProtection(CamelModel):
    """Point-in-time recovery Lifeboat turns on and keeps on, per resource type as AWS offers it:
    RDS automated backups (instances also replicate them to the first DR region, so a
    point-in-time restore works there), Aurora cluster backup retention, DynamoDB PITR. Types
    without such a mechanism (EBS, ElastiCache) keep their snapshots only, and health says so."""

    # Automated backup retention / DynamoDB's PITR recovery period (AWS allows 1 to 35 days).
    retention_days: int = Field(default=7, ge=1, le=35)
    # RDS instances: replicate automated backups to the policy's first DR region (its key).
    replicate_to_dr_region: bool = True


class Policy(CamelModel):
    """What to protect a resource with. Unset fields take their environment's defaults."""

    name: str
    environment: Environment
    enabled: bool | None = None
    retention_days: dict[Tier, int] | None = None
    rpo_minutes: int = Field(default=24 * 60, gt=0)
    dr_regions: list[DrTarget] = Field(default_factory=list)
    min_recovery_points: int = Field(default=DEFAULT_MIN_RECOVERY_POINTS, ge=1)
    removal_policy: RemovalPolicy | None = None
    force_retain: bool = False
    drill: DrillSettings = Field(default_factory=DrillSettings)
    # When a DR region is reachable again, copy there the points its outage missed that are still
    # inside retention (newest first, a few per run); off: only new points reach it, and each
    # missed one is recorded as skipped on its backup.
    backfill_missed_copies: bool = False
    # After this many failed backups in a row, scheduled runs skip the resource (CIRCUIT_OPEN)
    # until a run by hand succeeds or an operator resets it; null: never.
    circuit_breaker_failures: int | None = Field(default=3, ge=1)
    # None: snapshots only. Set: the backup run turns it on and verifies it, health measures it.
    continuous_protection: ContinuousProtection | None = None

    @field_validator("retention_days")
    @classmethod
    def _positive(cls, value: dict[Tier, int] | None) -> dict[Tier, int] | None:
        return _positive_days(value)

    @property
    def effective_removal_policy(self) -> RemovalPolicy:
        """forceRetain means RETAIN; otherwise SNAPSHOT unless the policy says otherwise."""
        if self.force_retain:
            return RemovalPolicy.RETAIN
        return self.removal_policy or RemovalPolicy.SNAPSHOT

    def retention_in(self, region: str) -> dict[Tier, int]:
        """Days each tier is kept in ``region``: a DR region's overrides on top of the defaults."""
        retention = self.effective_retention
        target = self.target(region)
        if target is not None and target.retention_days:
            retention |= target.retention_days
        return retention

    @property
    def backups_enabled(self) -> bool:
        default = ENVIRONMENT_DEFAULTS[self.environment]["enabled"]
        return bool(default if self.enabled is None else self.enabled)

    @property
    def effective_retention(self) -> dict[Tier, int]:
        if self.retention_days is not None:
            return dict(self.retention_days)
        default = ENVIRONMENT_DEFAULTS[self.environment]["retention_days"]
        assert isinstance(default, dict)
        return dict(default)

    def retention_for(self, tier: Tier) -> int | None:
        """Days a recovery point of this tier is kept, or None when the policy has no such tier."""
        return self.effective_retention.get(tier)

    def target(self, region: str) -> DrTarget | None:
        return next((t for t in self.dr_regions if t.region == region), None)

    @property
    def automated_backups_region(self) -> DrTarget | None:
        """The DR region RDS instances replicate automated backups to (AWS allows one per
        instance here: the first DR region), or None when the policy does not ask for it."""
        wanted = self.continuous_protection
        if wanted is None or not wanted.replicate_to_dr_region or not self.dr_regions:
            return None
        return self.dr_regions[0]

    def drill_region(self, source_region: str) -> str:
        if self.drill.region:
            return self.drill.region
        return self.dr_regions[0].region if self.dr_regions else source_region


def policy_violations(policy: Policy) -> list[str]:
    """The brief's environment rules a policy breaks, as operator-readable sentences."""
    problems: list[str] = []
    where = f"policy {policy.name!r} ({policy.environment.value})"
    if policy.environment is Environment.PROD:
        if not policy.backups_enabled:
            problems.append(f"{where}: backups cannot be disabled in prod")
        for tier, days in sorted(policy.effective_retention.items()):
            if days < MIN_PROD_RETENTION_DAYS and tier not in SUB_DAILY_TIERS:
                problems.append(
                    f"{where}: {tier.value} retention is {days} days; prod requires at least "
                    f"{MIN_PROD_RETENTION_DAYS}"
                )
        if all(tier in SUB_DAILY_TIERS for tier in policy.effective_retention):
            problems.append(
                f"{where}: prod keeps recovery points at least {MIN_PROD_RETENTION_DAYS} days; add a "
                "daily (or longer) tier"
            )
        if len(policy.dr_regions) < MIN_PROD_DR_REGIONS:
            problems.append(
                f"{where}: prod copies every recovery point to at least {MIN_PROD_DR_REGIONS} "
                f"DR regions; {len(policy.dr_regions)} configured"
            )
    regions = [t.region for t in policy.dr_regions]
    duplicates = sorted({r for r in regions if regions.count(r) > 1})
    if duplicates:
        problems.append(f"{where}: DR regions listed more than once: {', '.join(duplicates)}")
    if policy.drill.region and policy.target(policy.drill.region) is None:
        problems.append(
            f"{where}: drill region {policy.drill.region} is not one of its DR regions; a drill restores "
            "a DR copy (leave it unset to drill the first DR region, or the source region without any)"
        )
    problems += _retention_violations(policy, where)
    return problems


def _retention_violations(policy: Policy, where: str) -> list[str]:
    """Removal policy and tier sanity rules (cleanup relies on them)."""
    problems: list[str] = []
    prod = policy.environment is Environment.PROD
    if prod and policy.removal_policy is RemovalPolicy.DESTROY:
        problems.append(
            f"{where}: removal policy DESTROY is not allowed for prod stateful resources; "
            "use RETAIN or SNAPSHOT"
        )
    if policy.force_retain and policy.removal_policy not in (None, RemovalPolicy.RETAIN):
        problems.append(
            f"{where}: forceRetain forces removal policy RETAIN; "
            f"removalPolicy {policy.removal_policy.value} contradicts it"
        )
    source = policy.effective_retention
    regions: list[tuple[str, dict[Tier, int]]] = [("the source region", source)]
    regions += [(t.region, policy.retention_in(t.region)) for t in policy.dr_regions if t.retention_days]
    for region, retention in regions:
        present = [t for t in TIER_ORDER if t in retention]
        for shorter, longer in pairwise(present):
            if retention[longer] < retention[shorter]:
                problems.append(
                    f"{where}: in {region}, {longer.value} retention ({retention[longer]} days) is "
                    f"shorter than {shorter.value} retention ({retention[shorter]} days)"
                )
    for target in policy.dr_regions:
        for tier, days in sorted((target.retention_days or {}).items()):
            if prod and days < MIN_PROD_RETENTION_DAYS and tier not in SUB_DAILY_TIERS:
                problems.append(
                    f"{where}: {tier.value} retention in {target.region} is {days} days; prod "
                    f"requires at least {MIN_PROD_RETENTION_DAYS}"
                )
            if tier in source and days < source[tier]:
                problems.append(
                    f"{where}: {tier.value} retention in DR region {target.region} ({days} days) is "
                    f"shorter than in the source region ({source[tier]} days); a DR region may "
                    "only keep longer"
                )
    return problems


def resource_violations(
    policy: Policy,
    *,
    resource_arn: str,
    source_region: str,
    encrypted: bool,
    copy_unsupported: str | None = None,
) -> list[str]:
    """Rules that depend on the resource a policy is applied to.

    ``copy_unsupported`` is why the resource's type cannot copy a recovery point to another region
    (None when it can): such a resource cannot be under a policy with DR regions, and is refused
    before a snapshot is made rather than failing at the copy.
    """
    problems: list[str] = []
    if copy_unsupported and policy.dr_regions:
        regions = ", ".join(t.region for t in policy.dr_regions)
        problems.append(
            f"{resource_arn}: policy {policy.name!r} copies every recovery point to {regions}, but "
            f"{copy_unsupported}. Protect it with a policy without drRegions (e.g. a staging or dev "
            "policy, or one dedicated to caches)"
        )
    for target in policy.dr_regions:
        if target.region == source_region:
            problems.append(
                f"{resource_arn}: DR region {target.region} is the source region; a copy there "
                "does not survive a regional outage"
            )
        if encrypted and not target.kms_key_id:
            problems.append(
                f"{resource_arn}: the source is encrypted but policy {policy.name!r} names no "
                f"KMS key for DR region {target.region} (set drRegions[].kmsKeyId)"
            )
    return problems
