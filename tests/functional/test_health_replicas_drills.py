"""rpo_monitor on moto: read-replica lag (real replicas; the ReplicaLag datapoints are put into
moto's CloudWatch by the test, since moto has no such metric) and restore drills (DRILL items
seeded as the drill workflow records them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from freezegun import freeze_time
from lifeboat.aws.replica_lag import newest_replica_lags
from lifeboat.demo.fleet import create_replica
from lifeboat.demo.rpo_breach import alarm_event, put_replica_lag
from lifeboat.domain.operations import OperationStatus
from lifeboat.local.runtime import ACCOUNT_ID, CONFIG_PARAMETER, LocalCloud
from lifeboat.state.health import health_item_id
from lifeboat.state.store import from_item
from pydantic import BaseModel

from .health_support import (
    ORDERS_ARN,
    REPORTS_ARN,
    cloud,
    event,
    executions,
    seed_backup,
    seed_breach,
    seed_drill,
)

__all__ = ["cloud"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MONITOR = "RpoMonitorFunction"


def _build_lazy_models() -> None:
    """Lifeboat's models build lazily (defer_build); build them before freezegun swaps
    ``datetime`` out, or the first one built under frozen time fails."""
    import lifeboat.service.health  # noqa: F401 - the monitor's models

    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__.startswith("lifeboat."):
            model.model_rebuild(force=True)


_build_lazy_models()


def _emf(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def _calls(cloud: LocalCloud) -> dict[tuple[str, str], int]:
    return dict(cloud.meter.calls)


def _run_monitor(cloud: LocalCloud) -> tuple[dict[str, Any], dict[tuple[str, str], int]]:
    """Invoke the monitor as its schedule does; also the AWS calls that run made."""
    before = _calls(cloud)
    report = cloud.invoke_function(MONITOR, event("rpo_monitor_schedule.json"))
    made = {k: n - before.get(k, 0) for k, n in _calls(cloud).items() if n - before.get(k, 0)}
    return report, made


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["resourceArn"].rsplit(":", 1)[-1]: r for r in report["resources"]}


@contextmanager
def _cloudwatch_down_in(cloud: LocalCloud, region: str) -> Iterator[None]:
    """CloudWatch in ``region`` unreachable, as on the day that region has an outage."""

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://monitoring.{region}.amazonaws.com")

    events = cloud.client("cloudwatch", region).meta.events  # the client the monitor uses
    events.register("before-call.cloudwatch.GetMetricData", refuse)
    try:
        yield
    finally:
        events.unregister("before-call.cloudwatch.GetMetricData", refuse)


def test_each_replica_lag_is_read_in_one_call_per_region_and_judged_against_five_minutes(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN orders-db (prod) with a same-region replica and a cross-region one in us-west-2, and
    # reports-db (staging) with a replica in us-west-2: real replicas in moto
    orders_ro = create_replica(cloud, ORDERS_ARN, "orders-ro", "us-east-1")
    orders_dr = create_replica(cloud, ORDERS_ARN, "orders-dr", "us-west-2")
    reports_dr = create_replica(cloud, REPORTS_ARN, "reports-dr", "us-west-2")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    with freeze_time(NOW):
        seed_backup(cloud, ORDERS_ARN, timedelta(minutes=30), regions=("us-west-2", "eu-west-1"))
        seed_backup(cloud, REPORTS_ARN, timedelta(hours=1), regions=("us-west-2",))
        # ... and the ReplicaLag datapoints RDS would publish (moto has none; the test puts them):
        # orders-ro 12 s behind; orders-dr caught up 6 min ago but 7 min behind now; reports-dr
        # silent for 20 minutes
        put_replica_lag(cloud, orders_ro, 12, NOW - timedelta(minutes=1))
        put_replica_lag(cloud, orders_dr, 0, NOW - timedelta(minutes=6))
        put_replica_lag(cloud, orders_dr, 420, NOW - timedelta(minutes=1))
        put_replica_lag(cloud, reports_dr, 3, NOW - timedelta(minutes=20))
        capsys.readouterr()
        # WHEN the 15-minute schedule fires
        report, calls = _run_monitor(cloud)
    # THEN each replica is reported in its own region with its newest lag: orders-ro within the
    # target, orders-dr LAGGING, reports-dr UNKNOWN because nothing arrived in 10 minutes
    by_name = _by_name(report)
    replicas = {
        r["replicaArn"]: (r["region"], r["lagSeconds"], r["status"])
        for h in by_name.values()
        for r in h["replicas"]
    }
    assert replicas == {
        orders_ro: ("us-east-1", 12.0, "OK"),
        orders_dr: ("us-west-2", 420.0, "LAGGING"),
        reports_dr: ("us-west-2", None, "UNKNOWN"),
    }
    assert orders_dr == f"arn:aws:rds:us-west-2:{ACCOUNT_ID}:db:orders-dr"
    # AND a lagging replica does not turn the RPO (fresh backups) into a breach
    assert {h["status"] for h in by_name.values()} == {"OK"}
    # AND the saved health snapshot carries the replicas too
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.table_name, Key={"operationId": {"S": health_item_id(ORDERS_ARN)}}
    )["Item"]
    saved = from_item(item)["health"]["replicas"]
    assert {r["status"] for r in saved} == {"OK", "LAGGING"}
    # AND the lag is published per replica (resource/region/policy + replica), the count over
    # target per environment for the alarms
    lines = _emf(capsys.readouterr().out)
    lags = {
        line["replica"]: (line["resource"], line["region"], line["policy"], line["ReplicaLagSeconds"])
        for line in lines
        if "ReplicaLagSeconds" in line
    }
    assert lags == {
        orders_ro: (ORDERS_ARN, "us-east-1", "prod", [12.0]),
        orders_dr: (ORDERS_ARN, "us-west-2", "prod", [420.0]),
    }
    over = {
        line["environment"]: line["ReplicasOverLagTarget"]
        for line in lines
        if "ReplicasOverLagTarget" in line
    }
    assert over == {"prod": [1.0], "staging": [1.0]}
    # AND the cost stays flat: replicas came from the discovery's one DescribeDBInstances page,
    # their lag from one GetMetricData per replica region (us-east-1, us-west-2), not per replica
    assert calls[("rds", "DescribeDBInstances")] == 1
    assert calls[("cloudwatch", "GetMetricData")] == 2


def test_a_fleet_without_replicas_makes_no_cloudwatch_call_and_publishes_no_replica_metric(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the two databases, no read replica
    seed_backup(cloud, ORDERS_ARN, timedelta(minutes=30), regions=("us-west-2", "eu-west-1"))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # WHEN the monitor runs
    report, calls = _run_monitor(cloud)
    # THEN nothing about replicas costs anything: no CloudWatch read, no replica metric
    assert all(h["replicas"] == [] for h in report["resources"])
    assert ("cloudwatch", "GetMetricData") not in calls
    lines = _emf(capsys.readouterr().out)
    assert not [line for line in lines if "ReplicaLagSeconds" in line or "ReplicasOverLagTarget" in line]


def test_a_replica_region_whose_cloudwatch_is_down_leaves_its_lag_unknown_not_the_check_failed(
    cloud: LocalCloud,
) -> None:
    # GIVEN a same-region replica with a fresh datapoint and a cross-region one in us-west-2,
    # whose CloudWatch is unreachable
    orders_ro = create_replica(cloud, ORDERS_ARN, "orders-ro", "us-east-1")
    orders_dr = create_replica(cloud, ORDERS_ARN, "orders-dr", "us-west-2")
    put_replica_lag(cloud, orders_ro, 4, datetime.now(UTC) - timedelta(minutes=1))
    put_replica_lag(cloud, orders_dr, 4, datetime.now(UTC) - timedelta(minutes=1))
    # WHEN the monitor runs
    with _cloudwatch_down_in(cloud, "us-west-2"):
        report, _ = _run_monitor(cloud)
    # THEN the RPO report is complete, the us-east-1 replica has its lag, and the us-west-2 one
    # is UNKNOWN saying CloudWatch there did not answer
    replicas = {r["replicaArn"]: r for r in _by_name(report)["orders-db"]["replicas"]}
    assert (replicas[orders_ro]["status"], replicas[orders_ro]["lagSeconds"]) == ("OK", 4.0)
    assert replicas[orders_dr]["status"] == "UNKNOWN"
    assert replicas[orders_dr]["note"].startswith("CloudWatch in us-west-2 did not answer")
    assert {h["resourceArn"] for h in report["resources"]} == {ORDERS_ARN, REPORTS_ARN}


def test_more_than_500_replicas_in_a_region_take_a_second_call_and_keep_their_own_lag(
    cloud: LocalCloud,
) -> None:
    # GIVEN 501 replica ARNs in us-west-2 (GetMetricData takes at most 500 queries), the first
    # 9 s behind and the last 600 s behind
    arns = [f"arn:aws:rds:us-west-2:{ACCOUNT_ID}:db:replica-{i:03d}" for i in range(501)]
    with freeze_time(NOW):
        put_replica_lag(cloud, arns[0], 9, NOW - timedelta(minutes=2))
        put_replica_lag(cloud, arns[500], 600, NOW - timedelta(minutes=2))
        before = _calls(cloud).get(("cloudwatch", "GetMetricData"), 0)
        # WHEN their lag is read
        lookup = newest_replica_lags(cloud.client, arns, NOW)
    # THEN two calls answer all 501, and each replica keeps its own reading
    assert _calls(cloud)[("cloudwatch", "GetMetricData")] - before == 2
    assert {arn: r.seconds for arn, r in lookup.readings.items()} == {arns[0]: 9, arns[500]: 600}


def test_the_last_successful_drill_is_found_however_much_history_came_after_it(
    cloud: LocalCloud,
) -> None:
    # GIVEN drills scheduled monthly for prod (maxAgeDays 30) and staging (default 30 days)
    document = json.loads(cloud.client("ssm").get_parameter(Name=CONFIG_PARAMETER)["Parameter"]["Value"])
    for policy in ("prod", "staging"):
        document["policies"][policy]["drill"] = {"enabled": True}
    cloud.put_config(document)
    with freeze_time(NOW):
        # orders-db drilled 55 days ago (passed), 25 days ago (passed, RTO 14 min) and 3 days ago
        # (failed), with 21 daily backups since: 63 operations, more than the monitor's
        # 50-operation history read
        seed_drill(cloud, ORDERS_ARN, NOW - timedelta(days=55), rtoSeconds=2000)
        seed_drill(cloud, ORDERS_ARN, NOW - timedelta(days=25), rtoSeconds=840, dataAgeSeconds=3000)
        seed_drill(
            cloud, ORDERS_ARN, NOW - timedelta(days=3), OperationStatus.FAILED, error="ValidationFailed"
        )
        for day in range(21):
            seed_backup(
                cloud, ORDERS_ARN, timedelta(days=day, minutes=30), regions=("us-west-2", "eu-west-1")
            )
        # reports-db: an old failure, then a pass 40 days ago, nothing since
        seed_drill(cloud, REPORTS_ARN, NOW - timedelta(days=50), OperationStatus.FAILED, error="X")
        seed_drill(cloud, REPORTS_ARN, NOW - timedelta(days=40), dataAgeSeconds=600)
        seed_backup(cloud, REPORTS_ARN, timedelta(hours=1), regions=("us-west-2",))
        # WHEN the monitor runs
        report, calls = _run_monitor(cloud)
    drills = {name: h["drill"] for name, h in _by_name(report).items()}
    # THEN orders-db: last passed 25 days ago in us-west-2 with its RTO, latest outcome the
    # failure 3 days ago; still within its 30 days
    orders = drills["orders-db"]
    assert orders["lastSuccessAt"] == (NOW - timedelta(days=25)).isoformat().replace("+00:00", "Z")
    assert orders["minutesSinceSuccess"] == 25 * 24 * 60
    assert (orders["lastSuccessRegion"], orders["lastSuccessRtoSeconds"]) == ("us-west-2", 840.0)
    assert (orders["lastStatus"], orders["lastError"], orders["overdue"]) == (
        "FAILED",
        "ValidationFailed",
        False,
    )
    # AND reports-db: last passed 40 days ago, which is the latest outcome, and overdue
    reports = drills["reports-db"]
    assert (reports["minutesSinceSuccess"], reports["lastStatus"]) == (40 * 24 * 60, "SUCCEEDED")
    assert reports["overdue"] is True
    # AND the drills took two index queries for the whole fleet, beside six for the fleet's recent
    # backups and copies, two for the saved health items, one for the DR regions whose breaker is
    # open and one for open circuits: none per resource
    assert calls[("dynamodb", "Query")] == 2 + 6 + 2 + 1 + 1


def test_drills_older_than_twice_the_longest_drill_interval_are_not_read(cloud: LocalCloud) -> None:
    # GIVEN monthly drills for staging, and reports-db's only passed drill 100 days ago
    document = json.loads(cloud.client("ssm").get_parameter(Name=CONFIG_PARAMETER)["Parameter"]["Value"])
    document["policies"]["staging"]["drill"] = {"enabled": True, "maxAgeDays": 30}
    cloud.put_config(document)
    with freeze_time(NOW):
        seed_drill(cloud, REPORTS_ARN, NOW - timedelta(days=100))
        seed_backup(cloud, REPORTS_ARN, timedelta(hours=1), regions=("us-west-2",))
        # WHEN the monitor runs
        report, _ = _run_monitor(cloud)
    # THEN the monitor looked back 60 days (2 x 30), found no pass there, and says it is overdue:
    # every 15 minutes it reads two months of drills, never the 400 days they are kept
    reports = _by_name(report)["reports-db"]["drill"]
    assert (reports["lookbackDays"], reports["minutesSinceSuccess"], reports["overdue"]) == (60, None, True)


def test_a_replica_lag_alarm_opens_an_incident_and_starts_no_backup(cloud: LocalCloud) -> None:
    # GIVEN orders-db in RPO breach per its health snapshot (so a backup *could* be started)
    seed_breach(cloud, ORDERS_ARN, "prod")
    # WHEN the prod replica-lag alarm's state change is delivered, as EventBridge would
    alarm = alarm_event(cloud, "ReplicaLagProdAlarm", value=1, at=datetime.now(UTC))
    outcome = cloud.invoke_function("AlarmTriggerFunction", alarm)
    # THEN an incident is opened for it and no backup starts: a backup does not help a replica
    incidents = [i for i in cloud.operations() if i.get("type") == "INCIDENT"]
    assert [i["alarmName"] for i in incidents] == [alarm["detail"]["alarmName"]]
    assert alarm["detail"]["alarmName"].endswith("-replica-lag-prod-policies")
    assert outcome["action"] == "incident"
    assert executions(cloud) == []
