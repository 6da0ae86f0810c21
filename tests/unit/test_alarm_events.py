"""The alarm trigger's input: real "CloudWatch Alarm State Change" events, and broken ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lifeboat.errors import InvalidInput
from lifeboat.handler import parse
from lifeboat.service.alarm_trigger import AlarmEvent

EVENTS = Path(__file__).resolve().parents[2] / "events" / "health"


def _event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def test_single_metric_sample_names_the_environment_of_the_rpo_alarm() -> None:
    # GIVEN the prod RPO alarm event as EventBridge delivers it
    alarm = parse(AlarmEvent, _event("alarm_rpo_breach_prod.json"))
    # THEN its one metric is Lifeboat's breach count for prod policies
    assert alarm.detail.alarm_name == "lifeboat-dev-rpo-breach-prod-policies"
    assert [(m.namespace, m.name, m.dimensions) for m in alarm.metrics] == [
        ("Lifeboat", "ResourcesOverRpo", {"service": "lifeboat", "environment": "prod"})
    ]


def test_metric_math_sample_exposes_the_metrics_behind_the_expression() -> None:
    # GIVEN an alarm on MAX() over three per-region RPO ages of one resource
    alarm = parse(AlarmEvent, _event("alarm_rpo_resource_metric_math.json"))
    # THEN the expression entry is skipped and the three metrics (with their resource) remain
    assert {m.dimensions["region"] for m in alarm.metrics} == {"us-east-1", "us-west-2", "eu-west-1"}
    assert {m.dimensions["resource"] for m in alarm.metrics} == {
        "arn:aws:rds:us-east-1:123456789012:db:orders-db"
    }


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "no detail": (lambda e: e.pop("detail"), "detail: Field required"),
    "no alarm name": (lambda e: e["detail"].pop("alarmName"), "detail.alarmName: Field required"),
    "another event type": (
        lambda e: e.update({"detail-type": "EC2 Instance State-change Notification"}),
        "detail-type: Input should be 'CloudWatch Alarm State Change'",
    ),
    "unknown state": (lambda e: e["detail"]["state"].update({"value": "PANIC"}), "detail.state.value"),
    "not an object": (lambda e: e.clear(), "Field required"),
}


@pytest.mark.parametrize("case", BREAKAGES)
def test_a_malformed_alarm_event_is_invalid_input_naming_the_problem(case: str) -> None:
    # GIVEN a damaged copy of the RPO alarm event
    broken = _event("alarm_rpo_breach_prod.json")
    damage, message = BREAKAGES[case]
    damage(broken)
    # WHEN the handler's first step parses it
    # THEN it is refused before any AWS call, with the place of the problem in the message
    with pytest.raises(InvalidInput) as refused:
        parse(AlarmEvent, broken)
    assert message in str(refused.value)
