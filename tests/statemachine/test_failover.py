"""Regional failover on the real failover ASL: a replica is promoted, a global database switches
its writer over, a resource with neither is restored from its newest copy, the DNS records
follow, and every step is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.domain.operations import OperationStatus
from lifeboat.local.events import put_replica_lag

from .backup_support import run
from .failover_support import REPLICA, SECONDARY, WEST, failover_world


def test_a_planned_failover_promotes_switches_over_restores_and_moves_dns(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        # GIVEN orders-db's replica and ledger-aurora's global secondary in us-west-2 lag 2 s;
        # payments-db has only its copies there
        # WHEN the plan fails over to us-west-2
        execution = world.failover(targetRegion=WEST)
        # THEN it succeeded
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        # AND orders-db's replica stands alone as a primary in us-west-2
        promoted = world.instance(WEST, REPLICA)
        assert promoted["DBInstanceStatus"] == "available"
        assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
        # AND payments-db was restored in us-west-2 from its newest copy, encrypted with the DR key
        failovers = world.failovers()
        payments = failovers["payments-db"]
        restored = world.instance(WEST, payments.details["newPrimary"])
        assert restored["StorageEncrypted"] and restored["KmsKeyId"] == world.fleet.keys[WEST]
        # AND ledger-aurora's global database now writes in us-west-2 (a switchover: nothing lost)
        assert world.writer() == world.setup.secondary_arn and SECONDARY in world.writer()
        ledger = failovers["ledger-aurora"]
        assert ledger.details["mechanism"] == "global-switchover" and ledger.details["dataAgeSeconds"] == 0.0
        secondary = world.cloud.client("rds", WEST).describe_db_clusters(DBClusterIdentifier=SECONDARY)
        # AND the DNS names now serve the new primaries
        assert world.record("orders-db") == promoted["Endpoint"]["Address"]
        assert world.record("payments-db") == restored["Endpoint"]["Address"]
        assert world.record("ledger-aurora") == secondary["DBClusters"][0]["Endpoint"]
        # AND each resource's FAILOVER operation holds its mechanism, measured RTO and data age
        orders = failovers["orders-db"]
        assert orders.status is payments.status is ledger.status is OperationStatus.SUCCEEDED
        assert orders.details["mechanism"] == "promote-replica" and orders.details["dataAgeSeconds"] == 2.0
        assert payments.details["mechanism"] == "restore-copy" and payments.details["dataAgeSeconds"] >= 0
        assert 0 < orders.details["rtoSeconds"] < 900
        # (each resource's own time to a new primary comes before the DNS move that ends the RTO)
        for failover in (orders, payments, ledger):
            assert 0 <= failover.details["primaryReadySeconds"] <= failover.details["rtoSeconds"]
        # AND the old primaries are untouched
        assert world.instance("us-east-1", "orders-db")["DBInstanceStatus"] == "available"
        # AND one summary notification says what moved where
        (summary,) = [n for n in world.cloud.notifications() if n["Subject"].startswith("Lifeboat failover")]
        assert summary["Subject"] == f"Lifeboat failover of orders to {WEST}: DONE"
        assert "orders-db.db.example.internal. -> " in summary["Message"]


MUTATING = ("Create", "Promote", "Restore", "Change", "Put", "Update", "Delete", "Add", "Modify", "Copy")


def test_a_dry_run_prints_the_plan_and_makes_no_mutating_call(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        operations_before = len(world.cloud.operations())
        world.calls.clear()
        # WHEN the plan is dry-run to us-west-2
        execution = world.failover(targetRegion=WEST, dryRun=True)
        # THEN it succeeded with the verdict: ready, orders-db by promotion, payments-db by restore
        assert execution["status"] == "SUCCEEDED"
        plan = execution["output"]
        assert plan["ready"] is True and plan["dryRun"] is True
        how = {v["resourceArn"].rsplit(":", 1)[-1]: v["mechanism"] for v in plan["readiness"]}
        assert how == {
            "orders-db": "promote-replica",
            "payments-db": "restore-copy",
            "ledger-aurora": "global-switchover",
        }
        assert "Failover plan orders to us-west-2: READY" in plan["summary"]
        # AND not one mutating AWS call was made, and nothing was written to the state table
        made = {op for (_, _, op) in world.calls}
        assert {"DescribeDBInstances", "GetMetricData", "GetHostedZone"} <= made, made  # the count sees calls
        mutations = sorted(op for op in made if op.startswith(MUTATING))
        assert mutations == [], mutations
        assert len(world.cloud.operations()) == operations_before
        # AND the replica is still a replica and DNS still names the old primaries
        assert world.instance(WEST, REPLICA)["ReadReplicaSourceDBInstanceIdentifier"]
        assert ".us-east-1." in (world.record("orders-db") or "")


def test_a_lagging_replica_is_refused_without_allow_data_loss(tmp_path: Path) -> None:
    with failover_world(tmp_path, lag_seconds=600) as world:
        # GIVEN orders-db's replica lags 600 s, over the plan's 60 s
        # WHEN the plan fails over without accepting data loss
        execution = world.failover(targetRegion=WEST)
        # THEN it is refused before any change, saying why and how to accept it
        assert execution["status"] == "FAILED" and execution["error"] == "FailoverNotReady"
        assert world.instance(WEST, REPLICA)["ReadReplicaSourceDBInstanceIdentifier"]
        assert ".us-east-1." in (world.record("orders-db") or "")
        orders = world.failovers()["orders-db"]
        assert orders.status is OperationStatus.FAILED
        assert "lags 600 s, over the plan's 60 s" in orders.history[0].detail
        assert "--allow-data-loss" in orders.history[0].detail
        notifications = world.cloud.notifications()
        (refusal,) = [n for n in notifications if n["Subject"].startswith("Lifeboat failover")]
        assert refusal["Subject"] == f"Lifeboat failover of orders to {WEST} REFUSED: not ready"
        # AND the failed execution set off the failover alarm, as CloudWatch would
        assert 'ALARM: "lifeboat-dev-failover-executions-failed" in us-east-1' in [
            n["Subject"] for n in notifications
        ]

        # WHEN the operator accepts the loss (an unplanned failover: the source region is down)
        execution = world.failover(targetRegion=WEST, allowDataLoss=True)
        # THEN the replica is promoted, and its data age says what was lost
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        assert "ReadReplicaSourceDBInstanceIdentifier" not in world.instance(WEST, REPLICA)
        promoted = [
            o for o in world.cloud.operations() if o["type"] == "FAILOVER" and o["status"] == "SUCCEEDED"
        ]
        assert {o["details"]["dataAgeSeconds"] for o in promoted if "orders-db" in o["resourceArn"]} == {
            600.0
        }


def test_a_replica_not_tagged_for_the_plan_is_never_promoted(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        # GIVEN the operator has not tagged orders-db's replica for the plan
        world.cloud.client("rds", WEST).remove_tags_from_resource(
            ResourceName=world.replica_arn, TagKeys=["lifeboat:failover-plan"]
        )
        # WHEN the plan is dry-run THEN it is not ready, naming the tag to set
        plan = world.failover(targetRegion=WEST, dryRun=True)["output"]
        assert plan["ready"] is False
        assert (
            "is not tagged lifeboat:failover-plan=orders; tag it to let Lifeboat make it the primary"
            in plan["summary"]
        )


def test_an_unknown_plan_fails_with_the_known_ones_and_changes_nothing(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        before = len(world.cloud.operations())
        execution = run(
            world.cloud,
            world.cloud.start_execution("FailoverStateMachine", {"plan": "nope", "targetRegion": WEST}),
        )
        assert execution["status"] == "FAILED" and execution["error"] == "InvalidInput"
        assert "no failover plan 'nope' in the config; known plans: orders" in execution["cause"]
        assert len(world.cloud.operations()) == before


def test_a_global_database_fails_back_by_a_switchover_to_its_own_region(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        cloud, ledger = world.cloud, world.fleet.clusters["ledger-aurora"]
        # GIVEN a plan of ledger-aurora alone, its secondary and itself tagged for it
        config = dict(world.fleet.config)
        record = next(
            r for r in config["failoverPlans"]["orders"]["dnsRecords"] if r["resourceArn"] == ledger
        )
        config["failoverPlans"]["ledger"] = {"resources": [ledger], "dnsRecords": [record]}
        cloud.put_config(config)
        for arn in (ledger, world.setup.secondary_arn):
            region = arn.split(":")[3]
            cloud.client("rds", region).add_tags_to_resource(
                ResourceName=arn, Tags=[{"Key": "lifeboat:failover-plan", "Value": "ledger"}]
            )
        before = world.record("ledger-aurora")
        # AND it failed over to us-west-2
        request = {"plan": "ledger", "targetRegion": WEST}
        assert run(cloud, cloud.start_execution("FailoverStateMachine", request))["status"] == "SUCCEEDED"
        assert world.writer() == world.setup.secondary_arn
        # WHEN us-east-1 is healthy again, ledger-aurora replicates from us-west-2 (lag 1 s), and the
        # plan fails back to us-east-1
        cloud.client("cloudwatch").put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "AuroraGlobalDBReplicationLag",
                    "Dimensions": [
                        {"Name": "DBClusterIdentifier", "Value": "ledger-aurora"},
                        {"Name": "SourceRegion", "Value": WEST},
                    ],
                    "Timestamp": datetime.now(UTC),
                    "Value": 1000.0,
                }
            ],
        )
        back = run(
            cloud,
            cloud.start_execution("FailoverStateMachine", {"plan": "ledger", "targetRegion": "us-east-1"}),
        )
        # THEN ledger-aurora writes again in us-east-1 by a switchover, and its DNS name is back
        assert back["status"] == "SUCCEEDED", back.get("cause")
        assert world.writer() == ledger
        assert world.record("ledger-aurora") == before
        failback = world.failovers("SUCCEEDED")["ledger-aurora"]
        assert (failback.region, failback.details["mechanism"]) == ("us-east-1", "global-switchover")
        # AND nothing was deleted: the secondary in us-west-2 is still a member, now a reader again
        members = cloud.client("rds").describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]
        assert {m["DBClusterArn"] for m in members} == {ledger, world.setup.secondary_arn}


def test_a_resource_that_does_not_come_up_leaves_its_dns_and_fails_the_run_but_not_the_others(
    tmp_path: Path,
) -> None:
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import RDSBackend

    def refused(self: Any, db_kwargs: dict[str, Any]) -> Any:
        raise RDSClientError("InvalidParameterCombination", "promotion refused (injected)")

    with failover_world(tmp_path) as world:
        before = world.record("orders-db")
        # GIVEN RDS refuses to promote orders-db's replica
        with mock.patch.object(RDSBackend, "promote_read_replica", refused):
            # WHEN the plan fails over
            execution = world.failover(targetRegion=WEST)
        # THEN the run fails as incomplete, saying which resource and why
        assert execution["status"] == "FAILED" and execution["error"] == "FailoverIncomplete"
        failovers = world.failovers()
        orders = failovers["orders-db"]
        assert orders.status is OperationStatus.FAILED and "promotion refused" in (orders.cause or "")
        # AND orders-db's DNS name still names its old primary; the others moved and succeeded
        assert world.record("orders-db") == before
        assert (
            failovers["payments-db"].status is failovers["ledger-aurora"].status is OperationStatus.SUCCEEDED
        )
        assert ".us-west-2." in (world.record("payments-db") or "")
        # AND the summary says INCOMPLETE with the failure
        (summary,) = [n for n in world.cloud.notifications() if n["Subject"].startswith("Lifeboat failover")]
        assert summary["Subject"] == f"Lifeboat failover of orders to {WEST}: INCOMPLETE"
        assert "FAILED    orders-db (us-east-1)" in summary["Message"]


def test_an_instance_fails_back_home_by_a_new_replica_keeping_the_stale_old_primary(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        cloud, orders = world.cloud, world.fleet.instances["orders-db"]
        # GIVEN a plan of orders-db alone, failed over to its replica in us-west-2
        config = dict(world.fleet.config)
        record = next(
            r for r in config["failoverPlans"]["orders"]["dnsRecords"] if r["resourceArn"] == orders
        )
        config["failoverPlans"]["orders-only"] = {
            "resources": [orders],
            "dnsRecords": [record],
            "maxReplicaLagSeconds": 60,
        }
        cloud.put_config(config)
        cloud.client("rds", WEST).add_tags_to_resource(
            ResourceName=world.replica_arn, Tags=[{"Key": "lifeboat:failover-plan", "Value": "orders-only"}]
        )
        before = world.record("orders-db")
        away = run(
            cloud,
            cloud.start_execution("FailoverStateMachine", {"plan": "orders-only", "targetRegion": WEST}),
        )
        assert away["status"] == "SUCCEEDED", away.get("cause")
        assert ".us-west-2." in (world.record("orders-db") or "")
        # WHEN us-east-1 is back and the plan is dry-run home THEN it says how
        home = {"plan": "orders-only", "targetRegion": "us-east-1"}
        dry = run(cloud, cloud.start_execution("FailoverStateMachine", home | {"dryRun": True}))["output"]
        assert (
            dry["ready"] is True and "orders-db (us-east-1): rebuild-replica of orders-db" in dry["summary"]
        )
        # WHEN it fails back (the new replica's lag, once it exists, is 1 s)
        from moto.rds.models import RDSBackend

        create = RDSBackend.create_db_instance_read_replica

        def replica_publishing_lag(self: Any, db_kwargs: dict[str, Any]) -> Any:
            created = create(self, db_kwargs)
            put_replica_lag(cloud, created.db_instance_arn, 1.0, datetime.now(UTC))
            return created

        with mock.patch.object(RDSBackend, "create_db_instance_read_replica", replica_publishing_lag):
            back = run(cloud, cloud.start_execution("FailoverStateMachine", home))
        # THEN orders-db in us-east-1 is a standalone primary again, replicated from us-west-2 then
        # promoted, and its DNS name is back in us-east-1
        assert back["status"] == "SUCCEEDED", back.get("cause")
        rebuilt = world.instance("us-east-1", "orders-db")
        assert (
            rebuilt["DBInstanceStatus"] == "available"
            and "ReadReplicaSourceDBInstanceIdentifier" not in rebuilt
        )
        assert ".us-east-1." in (world.record("orders-db") or "") and world.record("orders-db") == before
        # AND the stale old primary was renamed and kept, and the failback says which
        failback = world.failovers("SUCCEEDED")["orders-db"]
        assert (failback.region, failback.details["mechanism"]) == ("us-east-1", "rebuild-replica")
        kept = failback.details["retainedOldPrimary"]
        assert kept.startswith("orders-db-pre-failover-")
        assert world.instance("us-east-1", kept)["DBInstanceStatus"] == "available"
        # AND the us-west-2 primary of the failover is still there: nothing was deleted
        assert world.instance(WEST, REPLICA)["DBInstanceStatus"] == "available"


def test_a_resource_without_a_replica_fails_over_to_the_newest_time_its_replicated_backups_reach(
    tmp_path: Path,
) -> None:
    from lifeboat.aws import automated_backups
    from lifeboat.aws.clients import Clients

    with failover_world(tmp_path) as world:
        # GIVEN payments-db's automated backups replicated to us-west-2 (continuous protection),
        # beside its daily copy there
        payments_arn = world.fleet.instances["payments-db"]
        automated_backups.start_replication(Clients(), payments_arn, WEST, 7, world.fleet.keys[WEST])
        # WHEN the plan is dry-run THEN it says payments-db restores to a point in time there
        dry = world.failover(targetRegion=WEST, dryRun=True)["output"]
        assert dry["ready"] is True
        assert (
            "payments-db (us-east-1): restore-point-in-time of its automated backups in us-west-2"
            in (dry["summary"])
        )
        # WHEN it fails over
        execution = world.failover(targetRegion=WEST)
        # THEN payments-db stands in us-west-2, restored from its replicated backups under the DR
        # key, seconds behind (its copy was hours behind on AWS), and its DNS name follows it
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        payments = world.failovers()["payments-db"]
        assert payments.details["mechanism"] == "restore-point-in-time"
        assert 0 <= payments.details["dataAgeSeconds"] < 60
        restored = world.instance(WEST, payments.details["newPrimary"])
        assert restored["StorageEncrypted"] and restored["KmsKeyId"] == world.fleet.keys[WEST]
        assert world.record("payments-db") == restored["Endpoint"]["Address"]


def test_with_data_checks_each_new_primary_shows_the_newest_backups_data_before_its_dns_moves(
    tmp_path: Path,
) -> None:
    with failover_world(tmp_path, databases=True) as world:
        cloud = world.cloud
        # GIVEN the plan asks for level-2 checks (orders-db and payments-db have dataChecks)
        config = dict(world.fleet.config)
        config["failoverPlans"]["orders"]["dataChecks"] = True
        cloud.put_config(config)
        # WHEN it fails over
        execution = world.failover(targetRegion=WEST)
        # THEN both new primaries passed their checks against the newest backup's data
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        failovers = world.failovers()
        orders = failovers["orders-db"]
        names = {c["name"] for c in orders.details["checks"]}
        assert {"schema_fingerprint", "canary"} <= names and orders.details["failedChecks"] == []
        assert any(n.startswith("row_count:") for n in names)
        # (payments-db restored through the restore steps, whose checks ran too)
        assert failovers["payments-db"].status is OperationStatus.SUCCEEDED


def test_a_new_primary_missing_the_backups_data_keeps_its_dns_on_the_old_primary(tmp_path: Path) -> None:
    with failover_world(tmp_path, databases=True) as world:
        cloud = world.cloud
        config = dict(world.fleet.config)
        config["failoverPlans"]["orders"]["dataChecks"] = True
        cloud.put_config(config)
        before = world.record("orders-db")
        # GIVEN orders-db's replica lost its customers (replication broke and someone truncated it)
        assert cloud.data_plane is not None
        cloud.data_plane.run_sql(WEST, REPLICA, "TRUNCATE customers CASCADE;")
        # WHEN it fails over
        execution = world.failover(targetRegion=WEST)
        # THEN orders-db is FAILED by its checks, its DNS name still names the old primary
        assert execution["status"] == "FAILED"
        orders = world.failovers()["orders-db"]
        assert orders.status is OperationStatus.FAILED and orders.error == "ChecksFailed"
        assert world.record("orders-db") == before
