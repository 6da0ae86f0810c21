"""Which recorded recovery point a restore uses, and the errors an operator reads (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.points import choose, valid_points
from lifeboat.domain.restore import (
    Purpose,
    RestoredFacts,
    check_identifier,
    drill_identifier,
    is_drill_resource,
    owned_by,
    restore_identifier,
    restore_tags,
    restored_checks,
)
from lifeboat.errors import InvalidInput, RecoveryPointNotFound

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SOURCE, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"


def point(age_hours: int) -> str:
    return f"lb-orders-db-daily-{NOW - timedelta(hours=age_hours):%Y%m%d%H%M}-6d483cac"


def op(kind: OperationType, region: str, age_hours: int, *, valid: bool = True, **details: Any) -> Operation:
    at = NOW - timedelta(hours=age_hours)
    point_id = point(age_hours)
    operation_id = f"backup:{point_id}" if kind is OperationType.BACKUP else f"copy:{point_id}:{region}"
    return Operation(
        operation_id=operation_id,
        type=kind,
        resource_arn=ARN,
        region=region,
        status=details.pop("status", OperationStatus.SUCCEEDED),
        created_at=at + (timedelta(minutes=5) if kind is OperationType.COPY else timedelta()),
        updated_at=at + timedelta(minutes=10),
        expires_at=0,
        recovery_point_id=point_id,
        details={f"validation_{region}": {"valid": valid, "checks": [{"name": "kms_key", "passed": valid}]}}
        | details,
    )


# Two days of backups; yesterday's copy to us-west-2 failed validation; nothing in eu-west-1 today.
HISTORY = [
    op(OperationType.BACKUP, SOURCE, 7),
    op(OperationType.COPY, WEST, 7),
    op(OperationType.BACKUP, SOURCE, 31),
    op(OperationType.COPY, WEST, 31, valid=False),
    op(OperationType.COPY, EU, 31),
    op(OperationType.BACKUP, SOURCE, 55, deletedAt="2026-11-21T07:00:00Z"),
]


def test_latest_is_the_newest_valid_point_in_the_target_region_and_says_why() -> None:
    # WHEN a restore into us-west-2 asks for "latest"
    chosen = choose(HISTORY, region=WEST, source_region=SOURCE, recovery_point_id=None, now=NOW)
    # THEN it gets today's copy, with the reason an operator reads
    assert chosen.recovery_point_id == point(7)
    assert chosen.taken_at == NOW - timedelta(hours=7)  # the backup's time, not the copy's
    assert "newest valid recovery point in us-west-2 (DR copy)" in chosen.reason
    assert "7h 00m old" in chosen.reason


def test_latest_skips_points_that_failed_validation_or_were_deleted() -> None:
    assert [o.recovery_point_id for o in valid_points(HISTORY, WEST, SOURCE)] == [point(7)]
    assert [o.recovery_point_id for o in valid_points(HISTORY, SOURCE, SOURCE)] == [point(7), point(31)]


def test_a_requested_point_that_failed_validation_is_refused_with_the_failed_check() -> None:
    with pytest.raises(InvalidInput, match=r"cannot be restored: it failed validation \(kms_key\)"):
        choose(HISTORY, region=WEST, source_region=SOURCE, recovery_point_id=point(31), now=NOW)


def test_a_deleted_point_is_refused() -> None:
    with pytest.raises(InvalidInput, match="deleted by cleanup"):
        choose(HISTORY, region=SOURCE, source_region=SOURCE, recovery_point_id=point(55), now=NOW)


def test_a_point_with_no_copy_in_the_region_says_where_it_is() -> None:
    with pytest.raises(
        RecoveryPointNotFound, match=r"has no copy in eu-west-1: it exists in us-east-1, us-west-2"
    ):
        choose(HISTORY, region=EU, source_region=SOURCE, recovery_point_id=point(7), now=NOW)


def test_a_region_without_any_valid_point_names_the_regions_that_have_one() -> None:
    history = [o for o in HISTORY if o.region != EU]
    with pytest.raises(
        RecoveryPointNotFound, match=r"no valid recovery point in eu-west-1; valid points exist in"
    ):
        choose(history, region=EU, source_region=SOURCE, recovery_point_id=None, now=NOW)


def test_a_resource_with_no_recorded_point_is_an_unknown_resource() -> None:
    with pytest.raises(RecoveryPointNotFound, match="no recovery point of this resource is recorded"):
        choose([], region=SOURCE, source_region=SOURCE, recovery_point_id=None, now=NOW)


def test_a_failed_backup_that_never_validated_is_never_a_recovery_point() -> None:
    failed = op(OperationType.BACKUP, SOURCE, 1, status=OperationStatus.FAILED).model_copy(
        update={"details": {}}
    )
    assert choose(
        [failed, *HISTORY], region=SOURCE, source_region=SOURCE, recovery_point_id=None, now=NOW
    ).recovery_point_id == point(7)


def test_a_partial_backup_is_a_recovery_point_in_its_source_region() -> None:
    # GIVEN an hour-old backup whose source point validated but whose DR copies failed (PARTIAL)
    partial = op(OperationType.BACKUP, SOURCE, 1, status=OperationStatus.PARTIAL)
    # THEN it is the newest valid point in the source region (issue 20: was ignored)
    assert choose(
        [partial, *HISTORY], region=SOURCE, source_region=SOURCE, recovery_point_id=None, now=NOW
    ).recovery_point_id == point(1)


def test_generated_identifiers_are_valid_db_identifiers_and_deterministic() -> None:
    long_arn = "arn:aws:rds:us-east-1:123456789012:db:" + "a-very-long-database-name-" * 3 + "x"
    for identifier in (
        restore_identifier("orders-db", NOW),
        restore_identifier("a" * 80, NOW),
        drill_identifier(ARN, NOW, "exec-1"),
        drill_identifier(long_arn, NOW, "exec-1"),
    ):
        assert check_identifier(identifier) == identifier
    # one drill execution always names its instance the same (a retried step finds it) ...
    assert drill_identifier(ARN, NOW, "exec-1") == drill_identifier(
        ARN, NOW + timedelta(seconds=30), "exec-1"
    )
    # ... and two drills started in the same minute never collide
    assert drill_identifier(ARN, NOW, "exec-1") != drill_identifier(ARN, NOW, "exec-2")
    assert restore_identifier("orders-db", NOW) == "orders-db-r202611221000"


@pytest.mark.parametrize("bad", ["1db", "db--x", "db-", "x" * 64, "db_x"])
def test_invalid_target_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid DB identifier"):
        check_identifier(bad)


def test_only_the_drills_own_resource_may_be_torn_down() -> None:
    drill_tags = restore_tags(
        {}, resource_arn=ARN, restored_from=point(7), operation_id="drill:a", purpose=Purpose.DRILL
    )
    restore_tags_ = restore_tags(
        {}, resource_arn=ARN, restored_from=point(7), operation_id="restore:b", purpose=Purpose.RESTORE
    )
    assert is_drill_resource(drill_tags, "drill:a")
    assert not is_drill_resource(drill_tags, "drill:other")  # another drill's resource
    assert not is_drill_resource(restore_tags_, "restore:b")  # a real restore: never torn down
    assert owned_by(restore_tags_, "restore:b") and not owned_by({}, "restore:b")


def test_restored_checks_catch_a_public_unprotected_wrongly_keyed_restore() -> None:
    tags = restore_tags(
        {}, resource_arn=ARN, restored_from=point(7), operation_id="restore:b", purpose=Purpose.RESTORE
    )
    facts = RestoredFacts(
        identifier="orders-db-r1",
        arn="arn:aws:rds:us-west-2:123456789012:db:orders-db-r1",
        region=WEST,
        status="available",
        ready=True,
        publicly_accessible=True,
        encrypted=True,
        kms_key_id="arn:aws:kms:us-west-2:123456789012:key/other",
        engine="postgres",
        deletion_protection=False,
        tags={},
    )
    checks = restored_checks(
        facts,
        encrypted=True,
        kms_key_id="arn:aws:kms:us-west-2:123456789012:key/dr",
        engine="postgres",
        deletion_protection=True,
        expected_tags=tags,
    )
    assert [c.name for c in checks if not c.passed] == [
        "not_publicly_accessible",
        "kms_key",
        "deletion_protection",
        "lifeboat_tags",
    ]
