"""Which state-table changes become a notification, and what the operator reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.errors import InvalidInput
from lifeboat.service.notify import notification_for

BATCH = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "health" / "state_stream_batch.json").read_text()
)
ROUTINE_SUCCESS, RPO_BREACH, DELETE_FAILED = BATCH["Records"]


def _with(record: dict[str, Any], image: str, **attributes: str) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    for name, value in attributes.items():
        changed["dynamodb"][image][name] = {"S": value}
    return changed


def test_routine_success_is_never_published() -> None:
    # GIVEN a backup moving RUNNING -> SUCCEEDED
    # THEN it deserves no message
    assert notification_for(ROUTINE_SUCCESS) is None


def test_an_rpo_breach_says_which_regions_and_why() -> None:
    # GIVEN orders-db's health snapshot turning from OK to BREACH (never backed up)
    message = notification_for(RPO_BREACH)
    # THEN the subject names the resource and policy, the body every region's state and the ids
    assert message is not None
    assert message.subject == "Lifeboat: RPO BREACH orders-db (us-east-1, prod)"
    lines = message.message.splitlines()
    assert (
        lines[0]
        == "RPO BREACH: orders-db has no valid recovery point within its 1h 00m target in 3 region(s)."
    )
    assert any(line.split()[:3] == ["eu-west-1", "dr", "BREACH"] for line in lines)
    assert "Resource: arn:aws:rds:us-east-1:123456789012:db:orders-db" in lines
    assert "State table item: health:arn:aws:rds:us-east-1:123456789012:db:orders-db" in lines


def test_a_breach_that_continues_is_not_repeated_and_its_end_is_published() -> None:
    # GIVEN the next check still in breach, and later a check back within target
    still = _with(RPO_BREACH, "OldImage", status="BREACH")
    restored = _with(_with(RPO_BREACH, "OldImage", status="BREACH"), "NewImage", status="OK")
    restored["dynamodb"]["NewImage"]["health"]["M"]["status"] = {"S": "OK"}
    # THEN the repeat is silent and the recovery is announced
    assert notification_for(still) is None
    message = notification_for(restored)
    assert message is not None
    assert message.subject == "Lifeboat: RPO restored orders-db (us-east-1)"


def test_a_failed_operation_gives_error_cause_and_ids() -> None:
    # GIVEN a cleanup deletion that turned FAILED
    message = notification_for(DELETE_FAILED)
    # THEN what failed, where, why, and the operation id are in the message
    assert message is not None
    assert message.subject == "Lifeboat: delete FAILED for orders-db (eu-west-1)"
    assert "Error: TransientAwsError" in message.message
    assert (
        "Cause: deleting lb-orders-db-daily-202610220300-6d483cac in eu-west-1: Throttling" in message.message
    )
    assert (
        "State table operation: delete:lb-orders-db-daily-202610220300-6d483cac:eu-west-1" in message.message
    )


def test_backup_failures_are_left_to_the_workflow_that_already_notifies_them() -> None:
    # GIVEN a backup turning FAILED (the workflow's NotifyFailure publishes it)
    failed_backup = _with(DELETE_FAILED, "NewImage", type="BACKUP")
    # THEN the stream does not publish it a second time
    assert notification_for(failed_backup) is None


@pytest.mark.parametrize(("status", "verdict"), [("SUCCEEDED", "PASSED"), ("FAILED", "FAILED")])
def test_drill_results_are_published_both_ways(status: str, verdict: str) -> None:
    # GIVEN a drill operation reaching a terminal status
    drill = _with(_with(DELETE_FAILED, "NewImage", type="DRILL", status=status), "OldImage", status="RUNNING")
    # THEN its result is published
    message = notification_for(drill)
    assert message is not None
    assert message.subject.startswith(f"Lifeboat: drill {verdict} for orders-db")


def test_an_unreadable_record_is_invalid_input() -> None:
    # GIVEN a record whose health snapshot is not a health snapshot
    broken = copy.deepcopy(RPO_BREACH)
    broken["dynamodb"]["NewImage"]["health"] = {"S": "not a snapshot"}
    # THEN it is refused with the record's id
    with pytest.raises(InvalidInput, match=RPO_BREACH["eventID"]):
        notification_for(broken)


def test_a_drill_result_carries_its_measured_rto_data_age_and_failed_checks() -> None:
    # GIVEN a drill that failed its row count check after a 42-second restore of hour-old data
    drill = _with(
        _with(DELETE_FAILED, "NewImage", type="DRILL", status="FAILED"), "OldImage", status="RUNNING"
    )
    drill["dynamodb"]["NewImage"]["details"] = {
        "M": {
            "rtoSeconds": {"N": "42.4"},
            "dataAgeSeconds": {"N": "3600"},
            "failedChecks": {"L": [{"S": "row_count:public.orders"}]},
        }
    }
    # THEN the message says what was measured and which check failed
    message = notification_for(drill)
    assert message is not None
    lines = message.message.splitlines()
    assert "Measured RTO (request -> available and checked): 0:00:42" in lines
    assert "Data age (RPO) as restored: 1:00:00" in lines
    assert "Failed checks: row_count:public.orders" in lines


def test_restore_outcomes_are_left_to_the_restore_workflow() -> None:
    failed_restore = _with(DELETE_FAILED, "NewImage", type="RESTORE")
    assert notification_for(failed_restore) is None
