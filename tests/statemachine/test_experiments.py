"""Failover experiments under safety controls (issue 10): the real experiment ASL on moto, the
fault injected into opted-in resources only, approval for critical ones, stop alarms and the
emergency stop, rollback, and the measured recovery on the EXPERIMENT operation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.aws import fault_targets
from lifeboat.demo.experiments import STOP_ALARM, prepare_experiments
from lifeboat.demo.fleet import DEMO_CLUSTERS, DemoFleet, seed_demo_fleet
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.experiment_control import answer_approval, stop_experiments

from .backup_support import FAST, demo_instances, run

ALARM = STOP_ALARM


@dataclass
class ExperimentWorld:
    cloud: LocalCloud
    fleet: DemoFleet

    def start(self, name: str) -> str:
        return self.cloud.start_execution("ExperimentStateMachine", {"experiment": name})

    def run(self, name: str) -> dict[str, Any]:
        return run(self.cloud, self.start(name))

    def experiment(self, name: str) -> Operation:
        (found,) = [
            op
            for status in OperationStatus
            for op in self.cloud.store().by_type_status(OperationType.EXPERIMENT, status, limit=50)
            if op.details.get("experiment") == name
        ]
        return found

    def instance(self, name: str) -> dict[str, Any]:
        return dict(
            self.cloud.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        )

    def writer(self) -> str:
        (cluster,) = self.cloud.client("rds").describe_db_clusters(DBClusterIdentifier="ledger-aurora")[
            "DBClusters"
        ]
        return next(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"])

    def alarm(self, state: str) -> None:
        self.cloud.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="test")

    def summary(self, name: str) -> dict[str, Any]:
        (found,) = [
            n for n in self.cloud.notifications() if n["Subject"].startswith(f"Lifeboat experiment {name}:")
        ]
        return found


@contextmanager
def experiment_world(tmp_path: Path) -> Iterator[ExperimentWorld]:
    """The demo's experiments (demo/experiments.py) on orders-db and ledger-aurora, backed up today."""
    with LocalCloud(time_scale=FAST, log_file=tmp_path / "local.log") as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=demo_instances("orders-db"),
            clusters=DEMO_CLUSTERS[:1],
            volumes=(),
            tables=(),
            caches=(),
        )
        prepare_experiments(cloud, fleet)
        assert run(cloud, cloud.start_backup("daily", datetime.now(UTC)))["status"] == "SUCCEEDED"
        yield ExperimentWorld(cloud, fleet)


def test_a_reboot_with_failover_moves_the_primary_and_measures_the_recovery(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        before = world.instance("orders-db")["AvailabilityZone"]
        # WHEN the reboot experiment runs
        execution = world.run("orders-reboot")
        # THEN it passed: the standby became the primary, the endpoint stayed, recovery measured
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        assert world.instance("orders-db")["AvailabilityZone"] != before
        op = world.experiment("orders-reboot")
        assert op.status is OperationStatus.SUCCEEDED and op.details["outcome"] == "PASSED"
        assert 0 <= op.details["recoverySeconds"] < 600 and "primary moved" in op.details["seen"]
        assert op.details["fault"].startswith("RebootDBInstance ForceFailover=true")
        assert "Outcome: PASSED" in world.summary("orders-reboot")["Message"]


def test_an_aurora_failover_is_rolled_back_to_the_original_writer(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        writer = world.writer()
        execution = world.run("ledger-failover")
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        op = world.experiment("ledger-failover")
        # THEN the writer moved to the reader, and was moved back afterwards
        assert op.details["seen"] == f"writer moved {writer} -> ledger-aurora-2"
        assert op.details["rollback"] == f"writer back to {writer}" and world.writer() == writer


def test_pre_checks_refuse_before_anything_is_injected(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        # GIVEN the stop alarm already in ALARM and orders-db no longer opted in
        world.alarm("ALARM")
        world.cloud.client("rds").remove_tags_from_resource(
            ResourceName=world.fleet.instances["orders-db"], TagKeys=["lifeboat:experiments"]
        )
        before = world.instance("orders-db")["AvailabilityZone"]
        execution = world.run("orders-reboot")
        # THEN it is refused with both reasons, and the instance was not touched
        assert execution["status"] == "FAILED" and execution["error"] == "ExperimentNotPassed"
        op = world.experiment("orders-reboot")
        assert op.status is OperationStatus.FAILED and op.details["outcome"] == "REFUSED"
        assert any("not tagged lifeboat:experiments=allowed" in r for r in op.details["reasons"])
        assert any(f"stop alarm {ALARM} is in ALARM" in r for r in op.details["reasons"])
        assert world.instance("orders-db")["AvailabilityZone"] == before and "fault" not in op.details


def test_a_stop_alarm_that_fires_during_the_experiment_stops_and_rolls_it_back(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        # GIVEN the fault trips the stop alarm (the application's errors rise)
        inject = fault_targets.inject

        def tripping(*args: Any) -> str:
            done = inject(*args)
            world.alarm("ALARM")
            return done

        with mock.patch.object(fault_targets, "inject", tripping):
            execution = world.run("orders-reboot")
        # THEN the watch stops it and says why
        assert execution["status"] == "FAILED"
        op = world.experiment("orders-reboot")
        assert op.details["outcome"] == "STOPPED" and op.status is OperationStatus.FAILED
        assert op.details["reasons"] == [f"stop alarm(s) in ALARM: {ALARM}"]
        assert "Outcome: STOPPED" in world.summary("orders-reboot")["Message"]


def test_a_critical_experiment_waits_for_approval_and_runs_once_approved(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        sfn, store = world.cloud.client("stepfunctions"), world.cloud.store()
        before = world.instance("orders-db")["AvailabilityZone"]
        # WHEN a critical experiment starts THEN it waits, its token on its operation, nothing injected
        waiting = world.start("orders-critical")
        op = _wait_for_token(world, "orders-critical")
        assert sfn.describe_execution(executionArn=waiting)["status"] == "RUNNING"
        assert world.instance("orders-db")["AvailabilityZone"] == before
        (ask,) = [n for n in world.cloud.notifications() if "awaits approval" in n["Subject"]]
        assert f"lifeboat experiment approve {op.operation_id}" in ask["Message"]
        # WHEN the operator approves THEN the fault is injected and it passes
        assert "approved" in answer_approval(sfn, store, op.operation_id, approve=True, by="sre@example.com")
        assert run(world.cloud, waiting)["status"] == "SUCCEEDED"
        assert world.instance("orders-db")["AvailabilityZone"] != before
        assert world.experiment("orders-critical").details["approvedBy"] == "sre@example.com"


def test_a_refused_critical_experiment_injects_nothing(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        sfn, store = world.cloud.client("stepfunctions"), world.cloud.store()
        before = world.instance("orders-db")["AvailabilityZone"]
        waiting = world.start("orders-critical")
        op = _wait_for_token(world, "orders-critical")
        # WHEN the operator refuses it
        answer_approval(sfn, store, op.operation_id, approve=False, by="sre@example.com")
        # THEN it ends REFUSED and the instance was never touched
        assert run(world.cloud, waiting)["status"] == "FAILED"
        op = world.experiment("orders-critical")
        assert op.details["outcome"] == "REFUSED" and "fault" not in op.details
        assert op.details["reasons"] == ["refused by sre@example.com"]
        assert world.instance("orders-db")["AvailabilityZone"] == before


def test_the_emergency_stop_ends_a_waiting_experiment_with_nothing_injected(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        sfn, store = world.cloud.client("stepfunctions"), world.cloud.store()
        before = world.instance("orders-db")["AvailabilityZone"]
        waiting = world.start("orders-critical")
        _wait_for_token(world, "orders-critical")
        # WHEN the emergency stop is pulled
        report = stop_experiments(sfn, store, at=datetime.now(UTC), by="sre@example.com")
        # THEN the waiting experiment ends STOPPED, nothing injected
        assert len(report.waiting_refused) == 1
        assert run(world.cloud, waiting)["status"] == "FAILED"
        op = world.experiment("orders-critical")
        assert op.details["outcome"] == "STOPPED" and "emergency stop" in op.details["reasons"][0]
        assert world.instance("orders-db")["AvailabilityZone"] == before


def test_the_emergency_stop_rolls_back_an_experiment_already_injected(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        sfn, store = world.cloud.client("stepfunctions"), world.cloud.store()
        writer = world.writer()
        inject = fault_targets.inject

        def then_stop(*args: Any) -> str:
            done = inject(*args)
            stop_experiments(sfn, store, at=datetime.now(UTC), by="sre@example.com")
            return done

        # WHEN the emergency stop is pulled right after ledger-aurora's writer was moved
        with mock.patch.object(fault_targets, "inject", then_stop):
            execution = world.run("ledger-failover")
        # THEN the experiment stops at its next step and the original writer writes again
        assert execution["status"] == "FAILED"
        op = world.experiment("ledger-failover")
        assert op.details["outcome"] == "STOPPED" and "emergency stop" in op.details["reasons"][0]
        assert op.details["rollback"] == f"writer back to {writer}" and world.writer() == writer
        # AND an experiment started after the stop runs as usual
        assert world.run("orders-reboot")["status"] == "SUCCEEDED"


def _wait_for_token(world: ExperimentWorld, name: str) -> Operation:
    import time

    for _ in range(200):
        try:
            op = world.experiment(name)
        except ValueError:
            op = None
        if op is not None and op.details.get("approvalToken"):
            return op
        time.sleep(0.05)
    raise AssertionError(f"experiment {name} never asked for approval")


def test_a_replica_promotion_drill_promotes_a_drill_copy_and_deletes_it(tmp_path: Path) -> None:
    with experiment_world(tmp_path) as world:
        west = world.cloud.client("rds", "us-west-2")
        before = world.instance("orders-db")
        # WHEN the promotion drill runs
        execution = world.run("orders-promotion")
        # THEN it passed: a drill copy was made in us-west-2 under its DR key, promoted, timed
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        op = world.experiment("orders-promotion")
        assert op.details["outcome"] == "PASSED" and "promoted in" in op.details["seen"]
        assert op.details["fault"].startswith("CreateDBInstanceReadReplica lbdrill-orders-db-")
        assert 0 <= op.details["recoverySeconds"] < 600 and op.details["promotedAt"]
        # AND the copy is gone (deleted by the teardown, as its tags name this experiment)
        assert op.details["rollback"].startswith("drill copy lbdrill-orders-db-")
        assert [i["DBInstanceIdentifier"] for i in west.describe_db_instances()["DBInstances"]] == []
        # AND production was not touched
        after = world.instance("orders-db")
        assert (after["DBInstanceStatus"], after["AvailabilityZone"]) == (
            before["DBInstanceStatus"],
            before["AvailabilityZone"],
        )
