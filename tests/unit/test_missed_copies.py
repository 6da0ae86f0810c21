"""Which points a DR region missed (issue 20's catch-up): pure, over a resource's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lifeboat.domain.catchup import MAX_CATCH_UP_PER_REGION, missed_copies
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id, run_id
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import Tier

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
NOW = datetime(2026, 11, 30, 3, 5, tzinfo=UTC)
WEST, EU = "us-west-2", "eu-west-1"


def _valid(region: str) -> dict[str, Any]:
    return {f"validation_{region}": {"valid": True, "checks": []}}


def day(days_ago: int, *, copies: dict[str, OperationStatus], tier: Tier = Tier.DAILY) -> list[Operation]:
    """A backup ``days_ago`` days ago, validated in us-east-1, and its copies by region."""
    at = (NOW - timedelta(days=days_ago)).replace(minute=0)
    point = recovery_point_id(ARN, tier, at)
    common: dict[str, Any] = {"resource_arn": ARN, "created_at": at, "updated_at": at, "expires_at": 0}
    operations = [
        Operation(
            operation_id=backup_operation_id(point),
            type=OperationType.BACKUP,
            region="us-east-1",
            status=OperationStatus.PARTIAL,
            recovery_point_id=point,
            run_id=run_id(tier, at),
            tier=tier.value,
            details=_valid("us-east-1"),
            **common,
        )
    ]
    for region, status in copies.items():
        operations.append(
            Operation(
                operation_id=copy_operation_id(point, region),
                type=OperationType.COPY,
                region=region,
                status=status,
                recovery_point_id=point,
                details=_valid(region) if status is OperationStatus.SUCCEEDED else {},
                **common,
            )
        )
    return operations


def _missed(history: list[Operation], *, keep_days: int = 30) -> list[tuple[int, str]]:
    found = missed_copies(
        history,
        regions=[WEST, EU],
        retention_days=lambda region, tier: keep_days,
        now=NOW,
        current_point="now",
    )
    return [((NOW - m.scheduled_at).days, m.region) for m in found]


def test_a_failed_copy_is_missed_and_a_good_or_running_one_is_not() -> None:
    history = day(1, copies={WEST: OperationStatus.FAILED, EU: OperationStatus.SUCCEEDED})
    history += day(2, copies={WEST: OperationStatus.RUNNING, EU: OperationStatus.SUCCEEDED})
    assert _missed(history) == [(1, WEST)]


def test_a_point_past_its_retention_in_the_region_is_not_missed() -> None:
    history = day(10, copies={WEST: OperationStatus.FAILED, EU: OperationStatus.SUCCEEDED})
    assert _missed(history, keep_days=7) == []
    assert _missed(history, keep_days=30) == [(10, WEST)]


def test_newest_first_and_a_few_per_region_and_run() -> None:
    history = [op for d in range(1, 12) for op in day(d, copies={WEST: OperationStatus.FAILED})]
    missed = _missed(history)
    assert [m for m in missed if m[1] == WEST] == [(d, WEST) for d in range(1, MAX_CATCH_UP_PER_REGION + 1)]
    assert len([m for m in missed if m[1] == EU]) == MAX_CATCH_UP_PER_REGION


def test_a_copy_caught_up_earlier_is_not_missed_again() -> None:
    history = day(1, copies={WEST: OperationStatus.FAILED, EU: OperationStatus.SUCCEEDED})
    caught_up = history[1].model_copy(
        update={
            "operation_id": history[1].operation_id + ":catch-up",
            "status": OperationStatus.SUCCEEDED,
            "details": _valid(WEST),
        }
    )
    assert _missed([*history, caught_up]) == []
