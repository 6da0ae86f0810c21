"""What Lifeboat knows about sources and recovery points, and level-1 validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifeboat.domain.models import CamelModel

MANAGED_BY_TAG = "lifeboat:managed-by"
MANAGED_BY_VALUE = "lifeboat"
RESOURCE_TAG = "lifeboat:resource-arn"
RECOVERY_POINT_TAG = "lifeboat:recovery-point-id"
TIER_TAG = "lifeboat:tier"
POLICY_TAG = "lifeboat:policy"
SCHEDULED_AT_TAG = "lifeboat:scheduled-at"


def recovery_point_tags(
    *, resource_arn: str, recovery_point_id: str, tier: str, policy: str, scheduled_at: datetime
) -> dict[str, str]:
    """The tags every recovery point carries; they prove Lifeboat made it and say its tier."""
    return {
        MANAGED_BY_TAG: MANAGED_BY_VALUE,
        RESOURCE_TAG: resource_arn,
        RECOVERY_POINT_TAG: recovery_point_id,
        TIER_TAG: tier,
        POLICY_TAG: policy,
        SCHEDULED_AT_TAG: scheduled_at.strftime("%Y-%m-%dT%H:%MZ"),
    }


def is_ours(tags: dict[str, str], recovery_point_id: str) -> bool:
    return tags.get(MANAGED_BY_TAG) == MANAGED_BY_VALUE and tags.get(RECOVERY_POINT_TAG) == recovery_point_id


class SourceSpec(CamelModel):
    """The facts of the source a recovery point must match (captured by the preflight)."""

    region: str
    status: str
    engine: str | None = None
    engine_version: str | None = None
    size_gib: int | None = None
    encrypted: bool
    kms_key_id: str | None = None
    # Where its database answers (types that have one): level-2 checks profile it at backup time.
    endpoint: str | None = None
    port: int | None = None


class RecoveryPointFacts(CamelModel):
    """A recovery point as the cloud describes it."""

    recovery_point_id: str
    arn: str
    region: str
    status: str
    ready: bool
    encrypted: bool
    kms_key_id: str | None = None
    engine: str | None = None
    engine_version: str | None = None
    size_gib: int | None = None
    tags: dict[str, str]
    created_at: datetime | None = None


class Check(CamelModel):
    """One validation check, as an operator reads it: expected, actual, passed."""

    name: str
    expected: Any
    actual: Any
    passed: bool


def level1_checks(
    facts: RecoveryPointFacts,
    source: SourceSpec,
    *,
    expected_kms_key_id: str | None,
    expected_tags: dict[str, str],
) -> list[Check]:
    """Level 1 of the brief: available, encrypted like the source, right key, engine, size, tags."""
    missing_tags = sorted(k for k, v in expected_tags.items() if facts.tags.get(k) != v)
    checks = [
        Check(name="available", expected=True, actual=facts.ready, passed=facts.ready),
        Check(
            name="encrypted",
            expected=source.encrypted,
            actual=facts.encrypted,
            passed=facts.encrypted or not source.encrypted,
        ),
        Check(
            name="engine",
            expected=f"{source.engine} {source.engine_version}",
            actual=f"{facts.engine} {facts.engine_version}",
            passed=(facts.engine, facts.engine_version) == (source.engine, source.engine_version),
        ),
        Check(
            name="size_gib",
            expected=source.size_gib,
            actual=facts.size_gib,
            passed=facts.size_gib == source.size_gib,
        ),
        Check(
            name="lifeboat_tags",
            expected=sorted(expected_tags),
            actual=(missing_tags and f"missing or wrong: {', '.join(missing_tags)}") or "present",
            passed=not missing_tags,
        ),
    ]
    if source.encrypted:
        checks.insert(
            2,
            Check(
                name="kms_key",
                expected=expected_kms_key_id,
                actual=facts.kms_key_id,
                passed=facts.kms_key_id is not None and facts.kms_key_id == expected_kms_key_id,
            ),
        )
    return checks
