"""Continuous protection, managed and measured (issue 10): a policy asking for it gets it turned
on by the backup run (RDS automated backups kept and replicated to the DR region under its key,
Aurora retention, DynamoDB PITR) and the health check measures the RPO it gives per region."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.demo.fleet import DEMO_CLUSTERS, DEMO_TABLES, DEMO_VOLUMES, DemoFleet, seed_demo_fleet
from lifeboat.domain.health import HealthReport
from lifeboat.errors import TransientAwsError
from lifeboat.local.events import MONITOR
from lifeboat.local.runtime import LocalCloud
from lifeboat.plugins.rds.instance import RdsInstancePlugin
from lifeboat.service.deps import deps_from_env
from moto.rds.models import RDSBackend

from .backup_support import FAST, SCHEDULED_AT, backup_of, demo_instances, run

WEST = "us-west-2"


@contextmanager
def protected_world(tmp_path: Path) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """orders-db (encrypted, automated backups kept 1 day), ledger-aurora (1 day), shopping-carts
    (PITR off) and build-cache (EBS) under prod, which asks for 7 days of continuous protection."""
    with LocalCloud(time_scale=FAST, log_file=tmp_path / "local.log") as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=demo_instances("orders-db"),
            clusters=DEMO_CLUSTERS[:1],
            volumes=DEMO_VOLUMES[:1],
            tables=DEMO_TABLES,
            caches=(),
        )
        rds = cloud.client("rds")
        rds.modify_db_instance(
            DBInstanceIdentifier="orders-db", BackupRetentionPeriod=1, ApplyImmediately=True
        )
        rds.modify_db_cluster(
            DBClusterIdentifier="ledger-aurora", BackupRetentionPeriod=1, ApplyImmediately=True
        )
        cloud.client("dynamodb").update_continuous_backups(
            TableName="shopping-carts", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
        )
        fleet.config["policies"]["prod"]["continuousProtection"] = {"retentionDays": 7}
        cloud.put_config(fleet.config)
        yield cloud, fleet


def _health(cloud: LocalCloud) -> HealthReport:
    return HealthReport.model_validate(cloud.invoke_function(MONITOR, {}))


def test_the_backup_run_turns_continuous_protection_on_and_health_measures_it(tmp_path: Path) -> None:
    with protected_world(tmp_path) as (cloud, fleet):
        orders, ledger = fleet.instances["orders-db"], fleet.clusters["ledger-aurora"]
        table, volume = fleet.tables["shopping-carts"], fleet.volumes["build-cache"]
        # GIVEN health before any run names each gap and how it closes
        before = {h.name: h.continuous_gaps for h in _health(cloud).resources}
        assert any("not replicated to us-west-2" in gap for gap in before["orders-db"])
        assert any("kept 1 days, policy asks 7" in gap for gap in before["ledger-aurora"])
        assert any("no point-in-time restore" in gap for gap in before["shopping-carts"])
        # WHEN the daily backup runs
        assert run(cloud, cloud.start_backup("daily", SCHEDULED_AT))["status"] == "SUCCEEDED"
        # THEN orders-db keeps 7 days of automated backups, replicated to us-west-2 under that
        # region's DR key, and says so on its backup
        rds = cloud.client("rds")
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"]
        assert instance["BackupRetentionPeriod"] == 7
        west = cloud.client("rds", WEST).describe_db_instance_automated_backups()[
            "DBInstanceAutomatedBackups"
        ]
        (replicated,) = [b for b in west if b["DBInstanceArn"] == orders]
        assert replicated["KmsKeyId"] == fleet.keys[WEST]
        assert replicated["BackupRetentionPeriod"] == 7 and "LatestTime" in replicated["RestoreWindow"]
        assert "replicated to us-west-2" in backup_of(cloud, orders).details["continuousProtection"]
        # AND ledger-aurora keeps 7 days, shopping-carts has PITR on for 7 days
        (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="ledger-aurora")["DBClusters"]
        assert cluster["BackupRetentionPeriod"] == 7
        assert backup_of(cloud, ledger).details["continuousProtection"] == (
            "automated backups retention 1 -> 7 days"
        )
        pitr = cloud.client("dynamodb").describe_continuous_backups(TableName="shopping-carts")
        described = pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert described["PointInTimeRecoveryStatus"] == "ENABLED" and described["RecoveryPeriodInDays"] == 7
        assert backup_of(cloud, table).details["continuousProtection"] == "point-in-time recovery on (7 days)"
        # AND the EBS volume's backup says it has no such mechanism, and its snapshot was still taken
        assert backup_of(cloud, volume).details["continuousProtection"].startswith("not available: EBS")
        assert backup_of(cloud, volume).status.value == "SUCCEEDED"
        # WHEN health runs
        report = _health(cloud)
        health = {h.name: h for h in report.resources}
        best = {(h.name, r.region): r.best_mechanism for h in report.resources for r in h.regions}
        # THEN in us-west-2 orders-db's best RPO is a point-in-time restore of its replicated backups
        assert best[("orders-db", WEST)] == "point-in-time"
        (west_region,) = [r for r in health["orders-db"].regions if r.region == WEST]
        assert west_region.best_rpo_seconds is not None and west_region.best_rpo_seconds < 60
        # AND the table's source region is reached by its PITR; only the volume has a gap left
        assert best[("shopping-carts", "us-east-1")] == "point-in-time"
        assert {h.resource_arn: h.continuous_gaps for h in report.resources if h.continuous_gaps} == {
            volume: [
                "continuous protection not available: EBS volumes have no continuous protection: their "
                "snapshots are their recovery points; add an hourly or every6h tier for a shorter RPO"
            ]
        }
        # AND the next run changes nothing and says it verified
        later = SCHEDULED_AT.replace(day=SCHEDULED_AT.day + 1)
        assert run(cloud, cloud.start_backup("daily", later))["status"] == "SUCCEEDED"
        assert backup_of(cloud, orders, later).details["continuousProtection"] == "verified"


def test_automated_backups_off_wait_for_the_maintenance_window_and_never_restart_the_database(
    tmp_path: Path,
) -> None:
    with protected_world(tmp_path) as (cloud, fleet):
        orders = fleet.instances["orders-db"]
        # GIVEN orders-db with automated backups off
        rds = cloud.client("rds")
        rds.modify_db_instance(
            DBInstanceIdentifier="orders-db", BackupRetentionPeriod=0, ApplyImmediately=True
        )
        requests: list[dict[str, Any]] = []
        modify = RDSBackend.modify_db_instance

        def recorded(self: Any, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
            requests.append(db_kwargs)
            return modify(self, db_instance_identifier, db_kwargs)

        # WHEN the daily backup runs
        with mock.patch.object(RDSBackend, "modify_db_instance", recorded):
            assert run(cloud, cloud.start_backup("daily", SCHEDULED_AT))["status"] == "SUCCEEDED"
        # THEN retention is asked for in the maintenance window (turning it on restarts the instance)
        # and replication waits for a later run; the backup says both
        assert [r.get("apply_immediately") for r in requests] == [False]
        said = backup_of(cloud, orders).details["continuousProtection"]
        assert "0 -> 7 days, in its next maintenance window" in said and "replicated" not in said


def test_a_point_in_time_restore_in_the_dr_region_while_the_source_region_is_down(tmp_path: Path) -> None:
    with protected_world(tmp_path) as (cloud, fleet):
        orders = fleet.instances["orders-db"]
        assert run(cloud, cloud.start_backup("daily", SCHEDULED_AT))["status"] == "SUCCEEDED"
        # GIVEN orders-db's automated backups replicated to us-west-2, and its own region not
        # answering (the source's settings cannot be read)
        moment = datetime.now(UTC) - timedelta(seconds=1)
        down = TransientAwsError("describing orders-db: Could not connect to the endpoint URL")
        # WHEN orders-db is restored in us-west-2 to a moment a second ago
        with mock.patch.object(RdsInstancePlugin, "restore_defaults", side_effect=down):
            execution = run(
                cloud,
                cloud.start_execution(
                    "RestoreStateMachine",
                    {
                        "resourceArn": orders,
                        "targetRegion": WEST,
                        "pointInTime": moment.isoformat(),
                        "targetIdentifier": "orders-db-west-pitr",
                    },
                ),
            )
        # THEN a new instance stands in us-west-2, encrypted with us-west-2's DR key, and its plan
        # says where it came from
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        west = cloud.client("rds", WEST)
        (restored,) = west.describe_db_instances(DBInstanceIdentifier="orders-db-west-pitr")["DBInstances"]
        assert (restored["StorageEncrypted"], restored["KmsKeyId"]) == (True, fleet.keys[WEST])
        plan = cloud.store().get(execution["output"]["operationId"]).details["plan"]
        assert (plan["mode"], plan["region"]) == ("point-in-time", WEST)
        assert "automated backups replicated to us-west-2" in plan["reason"]


def test_a_point_in_time_restore_where_nothing_is_replicated_is_refused_saying_why(tmp_path: Path) -> None:
    with protected_world(tmp_path) as (cloud, fleet):
        # GIVEN no backup run yet: nothing replicated to us-west-2
        execution = run(
            cloud,
            cloud.start_execution(
                "RestoreStateMachine",
                {
                    "resourceArn": fleet.instances["orders-db"],
                    "targetRegion": WEST,
                    "pointInTime": datetime.now(UTC).isoformat(),
                },
            ),
        )
        # THEN it is refused before anything is created, naming what is missing
        assert execution["status"] == "FAILED" and "are replicated to us-west-2" in execution["cause"]
        assert cloud.client("rds", WEST).describe_db_instances()["DBInstances"] == []


def test_a_global_tables_replica_lag_is_its_regions_rpo(tmp_path: Path) -> None:
    with protected_world(tmp_path) as (cloud, _fleet):
        assert run(cloud, cloud.start_backup("daily", SCHEDULED_AT))["status"] == "SUCCEEDED"
        # GIVEN an hour after the daily backup, shopping-carts is a global table with a replica in
        # us-west-2 800 ms behind (ReplicationLatency, published by DynamoDB in the sending region)
        later = datetime.now(UTC) + timedelta(hours=1)
        ddb = cloud.client("dynamodb")
        ddb.update_table(TableName="shopping-carts", ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
        cloud.client("cloudwatch").put_metric_data(
            Namespace="AWS/DynamoDB",
            MetricData=[
                {
                    "MetricName": "ReplicationLatency",
                    "Dimensions": [
                        {"Name": "TableName", "Value": "shopping-carts"},
                        {"Name": "ReceivingRegion", "Value": WEST},
                    ],
                    "Timestamp": later,
                    "Value": 800.0,
                    "Unit": "Milliseconds",
                }
            ],
        )
        # WHEN health runs then
        with mock.patch.object(deps_from_env(), "now", lambda: later):
            report = _health(cloud)
        (carts,) = [h for h in report.resources if h.name == "shopping-carts"]
        # THEN the replica is reported with its lag, and gives us-west-2 its best RPO
        (replica,) = carts.replicas
        assert (replica.mechanism, replica.region, replica.lag_seconds) == ("global-table", WEST, 0.8)
        (west,) = [r for r in carts.regions if r.region == WEST]
        assert (west.best_mechanism, west.best_rpo_seconds) == ("global-table", 0.8)
