"""A copy that failed after it started and the catch-up copy that later made the same snapshot are
one recovery point to cleanup (issue 20), so the guard that keeps the newest valid point keeps the
snapshot: before, the failed record, invalid and unguarded, could delete the catch-up's snapshot."""

from __future__ import annotations

from typing import Any

from lifeboat.service.cleanup_points import points_of

POINT = "lb-orders-db-daily-202611220300-6d483cac"
AT = "2026-11-22T03:00:00+00:00"


def _item(operation_id: str, kind: str, region: str, *, valid: bool | None, status: str) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if valid is not None:
        details[f"validation_{region}"] = {"valid": valid, "checks": []}
    return {
        "operationId": operation_id,
        "type": kind,
        "region": region,
        "status": status,
        "recoveryPointId": POINT,
        "tier": "daily",
        "createdAt": AT,
        "history": [
            {"status": "PENDING", "at": AT},
            {"status": "RUNNING", "at": AT},
            {"status": status, "at": AT},
        ],
        "details": details,
    }


def test_the_failed_copy_and_its_catch_up_are_one_point_and_the_valid_record_stands_for_it() -> None:
    items = [
        _item(f"backup:{POINT}", "BACKUP", "us-east-1", valid=True, status="PARTIAL"),
        _item(f"copy:{POINT}:us-west-2", "COPY", "us-west-2", valid=None, status="FAILED"),
        _item(f"copy:{POINT}:us-west-2:catch-up", "COPY", "us-west-2", valid=True, status="SUCCEEDED"),
    ]
    west = [p for p in points_of(items) if p.region == "us-west-2"]
    assert [(p.operation_id, p.valid) for p in west] == [(f"copy:{POINT}:us-west-2:catch-up", True)]
