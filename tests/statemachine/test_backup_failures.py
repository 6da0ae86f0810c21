"""Failures on the real ASL: each failed resource ends FAILED in the state table with its error and
cause, and is notified by name, while the rest of the fleet backs up normally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.local.runtime import LocalCloud

from .backup_support import (
    DR_REGIONS,
    SCHEDULED_AT,
    SOURCE,
    backup_of,
    copy_of,
    instance_fleet,
    manual_snapshots,
    point_of,
    run,
)

# orders-db: its snapshot comes out 1 GiB short of the source (level-1 validation fails).
# payments-db: CreateDBSnapshot is refused (its KMS key is no longer accessible).
# customers-db: the eu-west-1 copy loses its Lifeboat tags (validation of that copy fails).
# inventory-db, reports-db: nothing goes wrong.
FLEET = ("orders-db", "payments-db", "customers-db", "inventory-db", "reports-db")
HEALTHY = ("inventory-db", "reports-db")
BROKEN_KEY = "arn:aws:kms:us-east-1:123456789012:key/retired-payments-key"


@dataclass
class FailedRun:
    cloud: LocalCloud
    fleet: DemoFleet
    execution: dict[str, Any]
    notifications: list[dict[str, Any]]

    def arn(self, name: str) -> str:
        return self.fleet.instances[name]


def _faults() -> ExitStack:
    """Patch moto's RDS backend to produce the three faults above."""
    from moto.rds.exceptions import KMSKeyNotAccessibleFault
    from moto.rds.models import RDSBackend

    create: Callable[..., Any] = RDSBackend.create_db_snapshot
    copy: Callable[..., Any] = RDSBackend.copy_db_snapshot

    def create_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        instance = kwargs.get("db_instance_identifier") or args[0]
        if instance == "payments-db":
            raise KMSKeyNotAccessibleFault(BROKEN_KEY)
        snapshot = create(self, *args, **kwargs)
        if instance == "orders-db":
            snapshot.allocated_storage -= 1
        return snapshot

    def copy_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot = copy(self, *args, **kwargs)
        if self.region_name == "eu-west-1" and snapshot.db_snapshot_identifier.startswith("lb-customers-db-"):
            snapshot.tags = []
        return snapshot

    stack = ExitStack()
    stack.enter_context(mock.patch.object(RDSBackend, "create_db_snapshot", create_db_snapshot))
    stack.enter_context(mock.patch.object(RDSBackend, "copy_db_snapshot", copy_db_snapshot))
    return stack


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailedRun]:
    """GIVEN five instances, three of which will fail WHEN the daily backup runs (once per module)."""
    with instance_fleet(tmp_path_factory.mktemp("failures"), *FLEET) as (cloud, fleet), _faults():
        execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT))
        yield FailedRun(cloud, fleet, execution, cloud.notifications())


def test_the_run_completes_and_its_map_run_counts_three_failed_resources(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN the run completes and counts them."""
    # THEN one resource's failure does not stop the run: it completes, 2 items succeeded, 3 failed
    assert failed.execution["status"] == "SUCCEEDED"
    sfn = failed.cloud.client("stepfunctions")
    (map_run,) = sfn.list_map_runs(executionArn=failed.execution["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (5, 2, 3)


def test_a_snapshot_failing_validation_is_failed_with_the_failed_check(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN orders-db is FAILED by validation."""
    # THEN orders-db's backup is FAILED with ValidationFailed, and the cause names the check
    arn = failed.arn("orders-db")
    backup = backup_of(failed.cloud, arn)
    assert (backup.status.value, backup.error) == ("FAILED", "ValidationFailed")
    assert backup.cause == f"{point_of(arn)} in {SOURCE} failed validation: size_gib (expected 100, got 99)"
    # AND the evidence is kept: which checks ran, which failed
    evidence = backup.details[f"validation_{SOURCE}"]
    assert evidence["valid"] is False
    assert [c["name"] for c in evidence["checks"] if not c["passed"]] == ["size_gib"]
    # AND an invalid recovery point is never copied to the DR regions
    for region in DR_REGIONS:
        assert point_of(arn) not in manual_snapshots(failed.cloud, region)
        assert copy_of(failed.cloud, arn, region) is None


def test_a_snapshot_error_is_failed_with_the_aws_cause(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN payments-db is FAILED with its snapshot
    error."""
    # THEN payments-db's backup is FAILED with the error its snapshot step raised, and why
    arn = failed.arn("payments-db")
    backup = backup_of(failed.cloud, arn)
    assert (backup.status.value, backup.error) == ("FAILED", "KmsKeyNotUsable")
    assert backup.cause is not None
    assert f"snapshot {point_of(arn)} of {arn}" in backup.cause
    assert BROKEN_KEY in backup.cause
    # AND it failed before running: PENDING -> FAILED, no snapshot anywhere
    assert [c.status.value for c in backup.history] == ["PENDING", "FAILED"]
    assert all(point_of(arn) not in manual_snapshots(failed.cloud, r) for r in (SOURCE, *DR_REGIONS))


def test_a_copy_failing_validation_fails_the_backup_and_that_copy(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN customers-db and its eu-west-1 copy are
    FAILED."""
    # THEN customers-db's backup is FAILED with ValidationFailed naming the region and the tags
    arn = failed.arn("customers-db")
    backup = backup_of(failed.cloud, arn)
    assert (backup.status.value, backup.error) == ("FAILED", "ValidationFailed")
    assert backup.cause is not None
    assert f"{point_of(arn)} in eu-west-1 failed validation: lifeboat_tags" in backup.cause
    # AND the eu-west-1 copy is FAILED with its evidence, and no copy operation is left RUNNING
    copy = copy_of(failed.cloud, arn, "eu-west-1")
    assert copy is not None
    assert copy.status.value == "FAILED"
    assert copy.details["validation_eu-west-1"]["valid"] is False
    west = copy_of(failed.cloud, arn, "us-west-2")
    assert west is None or west.status.terminal


def test_each_failure_is_notified_naming_the_resource_error_and_cause(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN one message per failure names resource,
    error, cause and record."""
    by_subject = {n["Subject"]: n["Message"] for n in failed.notifications}
    expected = {
        "orders-db": ("ValidationFailed", "size_gib (expected 100, got 99)"),
        "payments-db": ("KmsKeyNotUsable", BROKEN_KEY),
        "customers-db": ("ValidationFailed", "lifeboat_tags"),
    }
    assert sorted(by_subject) == sorted(
        f"Lifeboat: daily backup FAILED for {name} (us-east-1)" for name in expected
    )
    for name, (error, cause) in expected.items():
        message = by_subject[f"Lifeboat: daily backup FAILED for {name} (us-east-1)"]
        assert f"The daily backup of {failed.arn(name)} failed." in message
        assert f"Error: {error}" in message
        assert cause in message
        assert f"backup:{point_of(failed.arn(name))}" in message


def test_the_rest_of_the_fleet_backs_up_normally(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN the two healthy instances SUCCEEDED with
    their copies."""
    for name in HEALTHY:
        arn = failed.arn(name)
        assert backup_of(failed.cloud, arn).status.value == "SUCCEEDED"
        copy = copy_of(failed.cloud, arn, "us-west-2")
        assert copy is not None
        assert copy.status.value == "SUCCEEDED"
        assert point_of(arn) in manual_snapshots(failed.cloud, "us-west-2")


def test_no_operation_is_left_pending_or_running(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN every operation it opened ended SUCCEEDED or
    FAILED."""
    stuck = {op["operationId"]: op["status"] for op in failed.cloud.operations()}
    assert {k: v for k, v in stuck.items() if v not in ("SUCCEEDED", "FAILED")} == {}
