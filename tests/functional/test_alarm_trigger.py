"""alarm_trigger: real CloudWatch alarm events -> on-demand backup of exactly the breached resource."""

from __future__ import annotations

import json

import pytest
from lifeboat.local.runtime import LocalCloud

from .health_support import ORDERS_ARN, REPORTS_ARN, cloud, event, executions, seed_breach

__all__ = ["cloud"]
TRIGGER = "AlarmTriggerFunction"


def _wait_all(cloud: LocalCloud) -> list[dict[str, object]]:
    return [cloud.wait(e["executionArn"]) for e in executions(cloud)]


def test_rpo_alarm_backs_up_exactly_the_breached_prod_resource(cloud: LocalCloud) -> None:
    # GIVEN orders-db (prod) and reports-db (staging) both in breach per the latest health check
    seed_breach(cloud, ORDERS_ARN, "prod")
    seed_breach(cloud, REPORTS_ARN, "staging")
    # WHEN the prod RPO alarm's state change is delivered (the single-metric sample event)
    outcome = cloud.invoke_function(TRIGGER, event("alarm_rpo_breach_prod.json"))
    # THEN one on-demand daily backup of orders-db only was started, tagged as alarm-triggered
    assert outcome["action"] == "backup"
    assert [b["resourceArn"] for b in outcome["backups"]] == [ORDERS_ARN]
    (run,) = _wait_all(cloud)
    payload = json.loads(str(run["input"]))
    assert payload["resources"] == [ORDERS_ARN]
    assert payload["tier"] == "daily"
    assert payload["trigger"] == "alarm"
    # AND the backup run produced a valid recovery point of orders-db
    assert run["status"] == "SUCCEEDED"
    backups = [op for op in cloud.store().by_resource(ORDERS_ARN) if op.type.value == "BACKUP"]
    assert [op.status.value for op in backups] == ["SUCCEEDED"]


def test_the_same_alarm_delivered_three_times_starts_one_backup(cloud: LocalCloud) -> None:
    # GIVEN orders-db in breach
    seed_breach(cloud, ORDERS_ARN)
    # WHEN the same alarm event arrives three times (EventBridge redelivery, re-evaluation)
    outcomes = [cloud.invoke_function(TRIGGER, event("alarm_rpo_breach_prod.json")) for _ in range(3)]
    # THEN exactly one execution exists; the other deliveries report a duplicate of it
    assert len(_wait_all(cloud)) == 1
    assert [b["duplicate"] for o in outcomes for b in o["backups"]] == [False, True, True]
    assert len({b["executionArn"] for o in outcomes for b in o["backups"]}) == 1


def test_a_metric_math_alarm_naming_a_resource_backs_up_that_resource(cloud: LocalCloud) -> None:
    # GIVEN an operator's metric-math alarm over orders-db's per-region RPO age (no health snapshot read)
    alarm = event("alarm_rpo_resource_metric_math.json")
    # WHEN it goes to ALARM
    outcome = cloud.invoke_function(TRIGGER, alarm)
    # THEN orders-db, and only it, gets an on-demand backup
    assert [b["resourceArn"] for b in outcome["backups"]] == [ORDERS_ARN]
    assert [json.loads(str(r["input"]))["resources"] for r in _wait_all(cloud)] == [[ORDERS_ARN]]


def test_an_alarm_not_owned_by_lifeboat_is_ignored_and_logged(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a breach that an RPO alarm would act on
    seed_breach(cloud, ORDERS_ARN)
    # WHEN somebody else's CPU alarm reaches the function
    outcome = cloud.invoke_function(TRIGGER, event("alarm_not_lifeboat.json"))
    # THEN nothing is started, and the log says why
    assert outcome["action"] == "ignored"
    assert executions(cloud) == []
    assert "orders-api-cpu-high" in capsys.readouterr().out + cloud.log_file.read_text()


def test_a_health_alarm_opens_one_incident_per_state_change(cloud: LocalCloud) -> None:
    # GIVEN Lifeboat's Lambda-errors alarm (metric-math shape) going to ALARM, delivered twice
    alarm = event("alarm_lambda_errors_metric_math.json")
    first = cloud.invoke_function(TRIGGER, alarm)
    second = cloud.invoke_function(TRIGGER, alarm)
    # THEN one incident is recorded, no backup starts
    incidents = [i for i in cloud.operations() if i.get("type") == "INCIDENT"]
    assert [i["alarmName"] for i in incidents] == ["lifeboat-dev-lambda-errors"]
    assert incidents[0]["status"] == "OPEN"
    assert first["incidentId"] == second["incidentId"] == incidents[0]["operationId"]
    assert second["reason"].startswith("incident already recorded")
    assert executions(cloud) == []


def test_an_rpo_alarm_after_recovery_does_nothing(cloud: LocalCloud) -> None:
    # GIVEN no resource in breach any more (the alarm event arrives late)
    # WHEN the prod RPO alarm is delivered
    outcome = cloud.invoke_function(TRIGGER, event("alarm_rpo_breach_prod.json"))
    # THEN nothing is started
    assert outcome["action"] == "nothing"
    assert executions(cloud) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"account": "210987654321"}, "from account 210987654321"),
        ({"region": "eu-west-1"}, "in eu-west-1"),
        ({"resources": []}, "does not name the alarm"),
        (
            {
                "resources": [
                    "arn:aws:cloudwatch:us-east-1:210987654321:alarm:lifeboat-dev-rpo-breach-prod-policies"
                ]
            },
            "does not name the alarm",
        ),
    ],
    ids=["another-account", "another-region", "no-alarm-arn", "alarm-arn-of-another-account"],
)
def test_an_rpo_alarm_event_that_is_not_this_stacks_starts_nothing(
    cloud: LocalCloud, change: dict[str, object], why: str
) -> None:
    # GIVEN a breach the prod RPO alarm would act on
    seed_breach(cloud, ORDERS_ARN)
    # WHEN an alarm event with Lifeboat's alarm name arrives from another account or region, or
    # without this account's alarm ARN (forwarded from another bus, or forged)
    outcome = cloud.invoke_function(TRIGGER, event("alarm_rpo_breach_prod.json") | change)
    # THEN it is ignored, saying why, and no backup starts
    assert outcome["action"] == "ignored"
    assert why in outcome["reason"]
    assert executions(cloud) == []
