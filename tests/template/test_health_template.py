"""Template pieces of health monitoring: alarms with actions, a valid dashboard, the triggers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lifeboat.local.execution_alarms import execution_alarms
from lifeboat.local.template import Template
from lifeboat.service.health import REPLICAS_OVER_TARGET_METRIC

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "health"


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return Template(ROOT).resources


def _of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_every_alarm_notifies_the_failure_topic(resources: dict[str, dict[str, Any]]) -> None:
    # GIVEN every CloudWatch alarm in the template
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    assert {"RpoBreachProdAlarm", "BackupExecutionsFailedAlarm", "LambdaErrorsAlarm"} <= set(alarms)
    # THEN each has the failure topic as its alarm action
    for name, alarm in alarms.items():
        assert {"Ref": "FailureTopic"} in alarm["Properties"].get("AlarmActions", []), name


def test_alarm_names_carry_the_prefix_the_trigger_rule_matches(resources: dict[str, dict[str, Any]]) -> None:
    # GIVEN the alarm trigger's EventBridge pattern and every alarm's name
    rule = resources["AlarmTriggerFunction"]["Properties"]["Events"]["LifeboatAlarms"]["Properties"]
    prefix = rule["Pattern"]["detail"]["alarmName"][0]["prefix"]["Fn::Sub"]
    env = resources["AlarmTriggerFunction"]["Properties"]["Environment"]["Variables"]
    # THEN the rule only passes ALARM states of our alarms, and the handler checks the same prefix
    assert rule["Pattern"]["detail"]["state"] == {"value": ["ALARM"]}
    assert env["ALARM_NAME_PREFIX"] == {"Fn::Sub": prefix}
    for name, alarm in _of_type(resources, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmName"]["Fn::Sub"].startswith(prefix), name


def test_the_sample_alarm_events_match_the_rule_only_when_ours() -> None:
    # GIVEN the sample events, with the dev stack's prefix
    names = {p.name: json.loads(p.read_text())["detail"]["alarmName"] for p in EVENTS.glob("alarm_*.json")}
    # THEN every Lifeboat sample carries the prefix and the foreign one does not
    assert {n for n, alarm in names.items() if not alarm.startswith("lifeboat-dev-")} == {
        "alarm_not_lifeboat.json"
    }


def test_the_dashboard_body_is_valid_json_and_shows_the_promised_views(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the dashboard body with CloudFormation's ${...} substitutions filled in
    body = resources["LifeboatDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    referenced = set(re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.Arn)?\}", body))
    rendered = re.sub(r"\$\{[^}]+\}", "arn:aws:x:us-east-1:123456789012:placeholder", body)
    # WHEN parsed
    dashboard = json.loads(rendered)
    # THEN it is widgets only, every referenced resource exists, and RPO / copies / failures /
    # durations are all on it
    assert referenced - {"AWS::Region"} <= set(resources)
    titles = " | ".join(w["properties"]["title"] for w in dashboard["widgets"])
    for view in ("Live RPO", "Copies per DR region", "Failures", "Durations", "Read replica lag"):
        assert view in titles
    alarm_widget = next(w for w in dashboard["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(_of_type(resources, "AWS::CloudWatch::Alarm"))


def test_the_monitor_runs_every_15_minutes_and_notify_reports_partial_failures(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the monitor's schedule and notify's stream mapping
    monitor = resources["RpoMonitorFunction"]["Properties"]["Events"]["Every15Minutes"]
    stream = resources["NotifyFunction"]["Properties"]["Events"]["StateStream"]["Properties"]
    # THEN the live RPO is at most 15 minutes stale, and a bad record fails alone (then goes to a DLQ)
    assert monitor["Properties"]["Schedule"] == "rate(15 minutes)"
    assert stream["Stream"] == {"Fn::GetAtt": ["StateTable", "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["NotifyDeadLetterQueue", "Arn"]
    }
    for pattern in stream["FilterCriteria"]["Filters"]:
        json.loads(pattern["Pattern"])


def test_cloudwatch_may_use_the_key_of_the_encrypted_failure_topic(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the key policy of the key the failure topic is encrypted with
    statements = resources["StateTableKey"]["Properties"]["KeyPolicy"]["Statement"]
    # THEN CloudWatch (alarm actions) may create and use data keys with it, and nothing more
    (grant,) = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert resources["FailureTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "StateTableKey"}


def test_replica_lag_alarms_watch_what_the_monitor_publishes_in_every_environment(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the replica-lag alarms
    alarms = {
        alarm["Properties"]["AlarmName"]["Fn::Sub"]: alarm["Properties"]
        for alarm in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        if "-replica-lag-" in alarm["Properties"]["AlarmName"]["Fn::Sub"]
    }
    # THEN each environment has one, on the count the monitor publishes per environment, firing
    # on the first replica over the 300-second target (or stopped, or silent), to the topic
    environments = {
        next(d["Value"] for d in props["Dimensions"] if d["Name"] == "environment")
        for props in alarms.values()
    }
    assert environments == {"prod", "staging", "dev"}
    for name, props in alarms.items():
        assert (props["Namespace"], props["MetricName"]) == ("Lifeboat", REPLICAS_OVER_TARGET_METRIC), name
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold"), name
        assert "300 seconds" in props["AlarmDescription"], name
        assert props["TreatMissingData"] == "notBreaching", name  # no replicas, no metric, no alarm


def test_the_monitor_may_read_replica_lag_and_the_fleet_wide_drill_index(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the monitor's IAM statements
    statements = resources["RpoMonitorFunction"]["Properties"]["Policies"][0]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    # THEN it may read ReplicaLag (GetMetricData accepts no narrower resource than "*") and query
    # the byTypeStatus index the drills are read from, and nothing in CloudWatch beyond reading
    assert (by_sid["ReadReplicaLag"]["Action"], by_sid["ReadReplicaLag"]["Resource"]) == (
        "cloudwatch:GetMetricData",
        "*",
    )
    assert {"Fn::Sub": "${StateTable.Arn}/index/byTypeStatus"} in by_sid["ReadHistoryWriteHealth"]["Resource"]
    assert not [s for s in statements if any(str(a).startswith("cloudwatch:Put") for a in s["Action"])]


def test_every_state_machine_alarms_on_its_failed_and_timed_out_executions(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN every state machine of the stack
    machines = _of_type(resources, "AWS::Serverless::StateMachine")
    assert len(machines) == 6
    for machine in machines:
        # WHEN the alarms watching its executions are found
        alarms = execution_alarms(resources, machine)
        # THEN one alarm sums its ExecutionsFailed and ExecutionsTimedOut, above 0 in 5 minutes,
        # and notifies the failure topic (a failure its own catch cannot handle is never silent)
        assert len(alarms) == 1, machine
        props = resources[alarms[0]]["Properties"]
        watched = {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}
        assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}, machine
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert props["AlarmActions"] == [{"Ref": "FailureTopic"}]
