"""The notify function's stream filters (template.yaml): Lambda drops every record the function
would not publish, before an invocation. A routine OK health write every 15 minutes per resource
used to pass (one invocation that published nothing per write)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.local.stream_filters import matches, stream_filters
from lifeboat.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
BATCH = json.loads((ROOT / "events" / "health" / "state_stream_batch.json").read_text())
PATTERNS = stream_filters(Template(ROOT).resources["NotifyFunction"])


def _record(kind: str, old_status: str | None, new_status: str, event: str = "MODIFY") -> dict[str, Any]:
    """A stream record of the sample batch's shape with the item's type and statuses replaced."""
    record = copy.deepcopy(BATCH["Records"][1])
    record["eventName"] = event
    record["dynamodb"]["NewImage"] |= {"type": {"S": kind}, "status": {"S": new_status}}
    if old_status is None:
        record["dynamodb"].pop("OldImage", None)
    else:
        record["dynamodb"]["OldImage"] |= {"type": {"S": kind}, "status": {"S": old_status}}
    return record


def _delivered(record: dict[str, Any]) -> bool:
    return any(matches(pattern, record) for pattern in PATTERNS)


@pytest.mark.parametrize(
    ("change", "record", "delivered"),
    [
        ("a routine OK health write", _record("HEALTH", "OK", "OK"), False),
        ("a resource's first health item, OK", _record("HEALTH", None, "OK", event="INSERT"), False),
        ("a breach starts", _record("HEALTH", "OK", "BREACH"), True),
        ("a breach ends", _record("HEALTH", "BREACH", "OK"), True),
        ("a drill starts", _record("DRILL", "PENDING", "RUNNING"), False),
        ("a drill finishes", _record("DRILL", "RUNNING", "SUCCEEDED"), True),
        ("an operation fails", _record("DELETE", "RUNNING", "FAILED"), True),
        ("a backup succeeds", _record("BACKUP", "RUNNING", "SUCCEEDED"), False),
        ("an item expires", _record("HEALTH", "BREACH", "BREACH", event="REMOVE"), False),
    ],
)
def test_only_the_changes_notify_publishes_reach_it(
    change: str, record: dict[str, Any], delivered: bool
) -> None:
    # GIVEN a state-table change WHEN Lambda applies the notify function's filters
    # THEN it is delivered exactly when notify may publish something for it
    assert _delivered(record) is delivered, change


def test_an_operator_that_local_mode_cannot_apply_is_refused() -> None:
    # GIVEN a pattern with an anything-but operator WHEN it is applied locally THEN it is refused,
    # not guessed
    with pytest.raises(ValueError, match="not supported locally"):
        matches({"eventName": [{"anything-but": "REMOVE"}]}, {"eventName": "MODIFY"})


def test_a_prefix_matches_as_eventbridge_applies_it() -> None:
    # GIVEN the completion rule's prefix on snapshot identifiers (lb-: Lifeboat's points)
    pattern = {"detail": {"SourceIdentifier": [{"prefix": "lb-"}]}}
    # THEN Lifeboat's points match and others do not
    assert matches(pattern, {"detail": {"SourceIdentifier": "lb-orders-db-daily-x"}})
    assert not matches(pattern, {"detail": {"SourceIdentifier": "rds:orders-db-2026-11-22"}})
