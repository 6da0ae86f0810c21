"""Live RPO computations (pure): what counts as a recovery point, breach, copy lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from lifeboat.domain.health import (
    DrillHealth,
    HealthStatus,
    RegionHealth,
    ReplicaHealth,
    ResourceHealth,
    assess,
    format_minutes,
)
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import Policy

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PROD = Policy.model_validate(
    {
        "name": "prod",
        "environment": "prod",
        "rpoMinutes": 60,
        "drRegions": [
            {"region": "us-west-2", "kmsKeyId": "alias/lifeboat-dr"},
            {"region": "eu-west-1", "kmsKeyId": "alias/lifeboat-dr"},
        ],
    }
)

# The models build lazily (defer_build); build them before freezegun swaps ``datetime`` out.
for _model in (Operation, ResourceHealth, RegionHealth, ReplicaHealth, DrillHealth):
    _model.model_rebuild(force=True)


def _point(age: timedelta) -> str:
    return f"lb-orders-db-daily-{(NOW - age):%Y%m%d%H%M}-6d483cac"


def backup(
    age: timedelta, status: OperationStatus = OperationStatus.SUCCEEDED, error: str | None = None
) -> Operation:
    at = NOW - age
    return Operation(
        operation_id=f"backup:{_point(age)}",
        type=OperationType.BACKUP,
        resource_arn=ARN,
        region="us-east-1",
        status=status,
        created_at=at,
        updated_at=at + timedelta(minutes=5),
        expires_at=0,
        recovery_point_id=_point(age),
        error=error,
    )


def copy(age: timedelta, region: str, status: OperationStatus = OperationStatus.SUCCEEDED) -> Operation:
    # The copy finishes well after the snapshot; its data is as old as the source point's.
    at = NOW - age + timedelta(minutes=20)
    return Operation(
        operation_id=f"copy:{_point(age)}:{region}",
        type=OperationType.COPY,
        resource_arn=ARN,
        region=region,
        status=status,
        created_at=at,
        updated_at=at,
        expires_at=0,
        recovery_point_id=_point(age),
    )


def full_backup(age: timedelta) -> list[Operation]:
    return [backup(age), copy(age, "us-west-2"), copy(age, "eu-west-1")]


def regions(health: ResourceHealth) -> dict[str, tuple[HealthStatus, float | None, float | None]]:
    return {r.region: (r.status, r.age_minutes, r.copy_lag_minutes) for r in health.regions}


@freeze_time(NOW)
def test_a_two_hour_old_point_under_a_one_hour_target_is_a_breach() -> None:
    # GIVEN a prod resource (RPO 60 min) whose newest valid point, copied everywhere, is 2 h old
    history = full_backup(timedelta(hours=2))
    # WHEN its live RPO is assessed now
    health = assess(ARN, PROD, history, datetime.now(UTC))
    # THEN every region is 120 minutes old and in breach
    assert health.status is HealthStatus.BREACH
    assert regions(health) == {
        "us-east-1": (HealthStatus.BREACH, 120.0, None),
        "us-west-2": (HealthStatus.BREACH, 120.0, 0.0),
        "eu-west-1": (HealthStatus.BREACH, 120.0, 0.0),
    }


@freeze_time(NOW)
def test_a_point_within_the_target_is_ok() -> None:
    # GIVEN the same resource backed up and copied 30 minutes ago
    health = assess(ARN, PROD, full_backup(timedelta(minutes=30)), datetime.now(UTC))
    # THEN it is within target everywhere
    assert health.status is HealthStatus.OK
    assert {r.age_minutes for r in health.regions} == {30.0}


@freeze_time(NOW)
def test_a_failed_latest_backup_does_not_count_as_a_recovery_point() -> None:
    # GIVEN a good backup 3 h ago and a FAILED one 10 minutes ago
    history = [
        *full_backup(timedelta(hours=3)),
        backup(timedelta(minutes=10), OperationStatus.FAILED, error="ValidationFailed"),
    ]
    # WHEN assessed
    health = assess(ARN, PROD, history, datetime.now(UTC))
    # THEN the RPO clock runs from the 3 h old point, and the failure is reported as the last backup
    assert regions(health)["us-east-1"] == (HealthStatus.BREACH, 180.0, None)
    assert health.regions[0].recovery_point_id == _point(timedelta(hours=3))
    assert health.last_backup_status is OperationStatus.FAILED
    assert health.last_backup_error == "ValidationFailed"


@freeze_time(NOW)
def test_a_missing_copy_in_eu_west_1_is_copy_lag_for_that_region_only() -> None:
    # GIVEN yesterday's point copied everywhere, and today's (30 min old) copied to us-west-2 only
    today = timedelta(minutes=30)
    yesterday = timedelta(hours=24, minutes=30)
    history = [*full_backup(yesterday), backup(today), copy(today, "us-west-2")]
    # WHEN assessed
    health = assess(ARN, PROD, history, datetime.now(UTC))
    # THEN eu-west-1 lags the source by 24 h and breaches; the source and us-west-2 do not
    assert regions(health) == {
        "us-east-1": (HealthStatus.OK, 30.0, None),
        "us-west-2": (HealthStatus.OK, 30.0, 0.0),
        "eu-west-1": (HealthStatus.BREACH, 1470.0, 1440.0),
    }
    assert [r.region for r in health.breached_regions] == ["eu-west-1"]


@freeze_time(NOW)
def test_a_region_never_copied_to_is_a_breach_without_a_lag_figure() -> None:
    # GIVEN a fresh source point whose copies are still running
    today = timedelta(minutes=5)
    history = [backup(today), copy(today, "us-west-2", OperationStatus.RUNNING)]
    # WHEN assessed
    health = assess(ARN, PROD, history, datetime.now(UTC))
    # THEN both DR regions have no valid copy: in breach, no age, no lag
    assert regions(health)["us-west-2"] == (HealthStatus.BREACH, None, None)
    assert regions(health)["eu-west-1"] == (HealthStatus.BREACH, None, None)
    assert health.regions[1].describe == "no valid copy"


def test_a_resource_with_no_history_is_in_breach_everywhere() -> None:
    # GIVEN a newly protected resource with no operation at all
    health = assess(ARN, PROD, [], NOW)
    # THEN all three regions breach and there is no last backup
    assert health.status is HealthStatus.BREACH
    assert len(health.breached_regions) == 3
    assert health.last_backup_status is None


def test_ages_read_as_an_operator_would_say_them() -> None:
    assert [format_minutes(m) for m in (0.4, 59.6, 92.5, 1470, 4000)] == [
        "0m",
        "1h 00m",
        "1h 32m",
        "24h 30m",
        "2d 18h",
    ]
