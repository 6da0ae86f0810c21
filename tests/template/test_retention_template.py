"""Retention's template and sample-event checks (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.contracts.cleanup import (
    CleanupPlanRequest,
    CleanupReportRequest,
    CleanupRequest,
    DeletionChunk,
)
from lifeboat.handler import parse
from lifeboat.local.template import apply_input_transformer, load_template

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVENTS = PROJECT_ROOT / "events" / "retention"
STATEFUL_TYPES = ("AWS::DynamoDB::Table", "AWS::KMS::Key")


def resources() -> dict[str, dict[str, Any]]:
    return load_template().resources


def test_every_table_and_kms_key_survives_stack_deletion_and_replacement() -> None:
    # GIVEN every DynamoDB table and KMS key in template.yaml (the state, and the keys to read it)
    stateful = {k: v for k, v in resources().items() if v["Type"] in STATEFUL_TYPES}
    assert {"StateTable", "StateTableKey"} <= set(stateful)
    # THEN deleting or replacing the stack, in any environment including prod, retains each
    for logical_id, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


# Deletions IAM cannot narrow to Lifeboat's points, with the reason (checked by the plugin).
UNNARROWABLE_DELETES = {
    "dynamodb:DeleteBackup": "DynamoDB backup ARNs are AWS-generated and backups cannot be tagged; "
    "cleanup deletes only the backup its tagged record names",
}


def test_cleanup_can_only_delete_lifeboat_snapshots() -> None:
    # GIVEN the cleanup delete function's role
    statements = resources()["CleanupDeleteFunction"]["Properties"]["Policies"][0]["Statement"]
    # THEN every delete action is limited to lb-* ids (snapshots, or objects of Lifeboat's
    # DynamoDB and ElastiCache buckets), to EBS snapshots tagged as ours, or is one IAM cannot
    # narrow (listed)
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        deletes = [action for action in actions if ":Delete" in action]
        if not deletes or set(deletes) <= set(UNNARROWABLE_DELETES):
            continue
        resource = json.dumps(statement["Resource"])
        tagged = statement.get("Condition", {}).get("StringEquals", {})
        ours = ":lb-*" in resource or any(
            f":s3:::lifeboat-{kind}-${{AWS::AccountId}}-*/lb-*" in resource
            for kind in ("dynamodb", "elasticache")
        )
        assert ours or tagged == {"aws:ResourceTag/lifeboat:managed-by": "lifeboat"}, statement


def test_the_daily_cleanup_schedule_starts_the_cleanup_workflow_after_the_backups() -> None:
    # GIVEN the cleanup schedule rule
    rule = resources()["CleanupSchedule"]["Properties"]
    (target,) = rule["Targets"]
    # WHEN EventBridge fills the input
    event = json.loads((PROJECT_ROOT / "events" / "schedule_daily.json").read_text())
    event["time"] = "2026-11-22T07:00:00Z"
    payload = apply_input_transformer(target["InputTransformer"], event)
    # THEN the cleanup workflow gets a real (not dry) run, the sample input, after 03:00-05:00 backups
    assert target["Arn"] == {"Ref": "CleanupStateMachine"}
    assert payload == json.loads((EVENTS / "cleanup_schedule_input.json").read_text())
    assert rule["ScheduleExpression"] == "cron(0 7 * * ? *)"
    assert parse(CleanupRequest, payload).dry_run is False


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("cleanup_plan.json", CleanupPlanRequest),
        ("cleanup_delete.json", DeletionChunk),
        ("cleanup_report.json", CleanupReportRequest),
    ],
)
def test_sample_handler_inputs_parse(name: str, model: type[Any]) -> None:
    assert isinstance(parse(model, json.loads((EVENTS / name).read_text())), model)
