"""rpo_monitor: live RPO from the state table -> report, health snapshot, EMF metrics."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from lifeboat.demo.fleet import DemoInstance, create_instance
from lifeboat.local.runtime import LocalCloud
from lifeboat.state.health import breached

from .health_support import ORDERS_ARN, REPORTS_ARN, cloud, event, seed_backup

__all__ = ["cloud"]


def _emf(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def test_the_monitor_reports_saves_and_publishes_the_live_rpo(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN orders-db (prod, RPO 1 h) last backed up 2 h ago and copied to us-west-2 only,
    # reports-db (staging, RPO 24 h) backed up and copied 1 h ago, and a dev database (backups off)
    seed_backup(cloud, ORDERS_ARN, timedelta(hours=2), regions=("us-west-2",))
    seed_backup(cloud, REPORTS_ARN, timedelta(hours=1), regions=("us-west-2",))
    create_instance(cloud, DemoInstance("sandbox-db", "dev", encrypted=False), source_key="")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # WHEN the 15-minute schedule fires
    report = cloud.invoke_function("RpoMonitorFunction", event("rpo_monitor_schedule.json"))
    # THEN the report has orders-db in breach (2 h old at the source, no copy in eu-west-1) ...
    by_name = {r["resourceArn"].rsplit(":", 1)[-1]: r for r in report["resources"]}
    orders = {r["region"]: r for r in by_name["orders-db"]["regions"]}
    assert by_name["orders-db"]["status"] == "BREACH"
    assert 119 <= orders["us-east-1"]["ageMinutes"] <= 121
    assert (orders["us-west-2"]["status"], orders["us-west-2"]["copyLagMinutes"]) == ("BREACH", 0.0)
    assert (orders["eu-west-1"]["status"], orders["eu-west-1"]["ageMinutes"]) == ("BREACH", None)
    # ... reports-db within its 24 h target, and the dev database left out with the reason
    assert by_name["reports-db"]["status"] == "OK"
    assert [s["reason"] for s in report["skipped"]] == ["backups are disabled by policy 'dev' (dev)"]
    # AND the state table answers "who is in breach" from the snapshot
    assert [h.resource_arn for h in breached(cloud.store())] == [ORDERS_ARN]
    # AND CloudWatch gets the age per resource/region/policy and the breach count per environment
    lines = _emf(capsys.readouterr().out)
    ages = {
        (line["resource"], line["region"]): line["RecoveryPointAgeMinutes"]
        for line in lines
        if "RecoveryPointAgeMinutes" in line
    }
    assert set(ages) == {
        (ORDERS_ARN, "us-east-1"),
        (ORDERS_ARN, "us-west-2"),
        (REPORTS_ARN, "us-east-1"),
        (REPORTS_ARN, "us-west-2"),
    }
    age_line = next(line for line in lines if "RecoveryPointAgeMinutes" in line)
    dimensions = age_line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert set(dimensions[0]) == {"service", "resource", "region", "policy"}
    over = {line["environment"]: line["ResourcesOverRpo"] for line in lines if "environment" in line}
    assert over == {"prod": [1.0], "staging": [0.0]}  # EMF values are lists


def test_the_report_gives_the_manual_snapshot_headroom_of_every_region_the_fleet_writes_to(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the prod and staging databases (points in us-east-1, us-west-2 and eu-west-1), three
    # manual snapshots in us-east-1 and an account quota of 7 there
    seed_backup(cloud, ORDERS_ARN, timedelta(hours=2))
    rds = cloud.client("rds")
    for index in range(3):
        rds.create_db_snapshot(DBSnapshotIdentifier=f"manual-{index}", DBInstanceIdentifier="orders-db")
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", "7")
    # WHEN the monitor runs
    report = cloud.invoke_function("RpoMonitorFunction", event("rpo_monitor_schedule.json"))
    # THEN it reads each region's quota once, and us-east-1 is low: 4 free, under the reserve of 5
    quotas = {(q["resourceType"], q["region"]): q for q in report["snapshotQuotas"]}
    assert set(quotas) == {("rds:db", region) for region in ("us-east-1", "us-west-2", "eu-west-1")}
    east = quotas[("rds:db", "us-east-1")]
    assert (east["used"], east["max"], east["headroom"], east["low"]) == (3, 7, 4, True)
    assert not quotas[("rds:db", "us-west-2")]["low"]


def _monitor_calls(cloud: LocalCloud) -> dict[tuple[str, str], int]:
    """One scheduled run of the monitor; the state-table calls it made, by operation."""
    before = dict(cloud.meter.calls)
    cloud.invoke_function("RpoMonitorFunction", event("rpo_monitor_schedule.json"))
    return {
        key: count - before.get(key, 0)
        for key, count in cloud.meter.calls.items()
        if key[0] == "dynamodb" and count - before.get(key, 0)
    }


def test_the_monitors_state_table_calls_do_not_grow_with_the_fleet_and_a_quiet_run_writes_nothing(
    cloud: LocalCloud,
) -> None:
    # GIVEN orders-db and reports-db, each backed up 50 minutes ago into every DR region it has
    # (well inside a quarter of orders-db's 60-minute target: 45 to 60 minutes, so the runs
    # below, seconds apart, see the same age bucket)
    age = timedelta(minutes=50)
    seed_backup(cloud, ORDERS_ARN, age, regions=("us-west-2", "eu-west-1"))
    seed_backup(cloud, REPORTS_ARN, age, regions=("us-west-2",))
    small = _monitor_calls(cloud)
    # WHEN 20 more staging databases, as well backed up, join the fleet
    for index in range(20):
        name = f"reports-shard-{index:02d}"
        create_instance(cloud, DemoInstance(name, "staging", encrypted=False), source_key="")
        seed_backup(
            cloud, REPORTS_ARN.replace("reports-db", name), timedelta(hours=1), regions=("us-west-2",)
        )
    first = _monitor_calls(cloud)
    # THEN the monitor reads the state table with as many queries for 22 databases as for 2 (none
    # per resource), and writes the 20 new health items only
    assert first[("dynamodb", "Query")] == small[("dynamodb", "Query")]
    assert first[("dynamodb", "UpdateItem")] == 20
    # AND the next run, with nothing changed, writes no health item at all
    quiet = _monitor_calls(cloud)
    assert quiet.get(("dynamodb", "UpdateItem"), 0) == 0
    assert quiet[("dynamodb", "Query")] == small[("dynamodb", "Query")]
