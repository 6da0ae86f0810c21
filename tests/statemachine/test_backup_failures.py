"""Failures on the real ASL: each failed resource ends FAILED in the state table with its error and
cause, a failed DR copy fails that copy alone (the backup is PARTIAL), each is notified by name,
and the rest of the fleet backs up normally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.domain.operations import OperationType
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


def test_the_run_completes_and_its_map_run_counts_two_failed_resources(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN the run completes and counts them."""
    # THEN one resource's failure does not stop the run: it completes; the two without a valid
    # source point failed, customers-db (a DR copy failed) and the healthy two did not
    assert failed.execution["status"] == "SUCCEEDED"
    sfn = failed.cloud.client("stepfunctions")
    (map_run,) = sfn.list_map_runs(executionArn=failed.execution["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (5, 3, 2)


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


def test_a_copy_failing_validation_fails_that_copy_alone_and_the_backup_is_partial(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN customers-db's eu-west-1 copy is
    FAILED, its us-west-2 copy SUCCEEDED, and its backup PARTIAL naming the missing copy."""
    arn = failed.arn("customers-db")
    # THEN the eu-west-1 copy is FAILED with ValidationFailed, its cause and its evidence
    copy = copy_of(failed.cloud, arn, "eu-west-1")
    assert copy is not None
    assert (copy.status.value, copy.error) == ("FAILED", "ValidationFailed")
    assert (
        copy.cause is not None
        and f"{point_of(arn)} in eu-west-1 failed validation: lifeboat_tags" in copy.cause
    )
    assert copy.details["validation_eu-west-1"]["valid"] is False
    # AND the us-west-2 copy is untouched by it (was: the whole backup FAILED)
    west = copy_of(failed.cloud, arn, "us-west-2")
    assert west is not None and west.status.value == "SUCCEEDED"
    # AND the backup is PARTIAL: its source point is valid, the cause names the missing copy
    backup = backup_of(failed.cloud, arn)
    assert (backup.status.value, backup.error) == ("PARTIAL", "CopiesMissing")
    assert backup.validated
    assert backup.cause is not None and backup.cause.startswith("copy to eu-west-1 failed: ValidationFailed")


def test_each_failure_is_notified_naming_the_resource_error_and_cause(failed: FailedRun) -> None:
    """GIVEN the run with three failing resources (fixture) THEN one message per failure names resource,
    error, cause and record; the partial one says where the new point is."""
    by_subject = {n["Subject"]: n["Message"] for n in failed.notifications}
    expected = {
        "orders-db": ("ValidationFailed", "size_gib (expected 100, got 99)"),
        "payments-db": ("KmsKeyNotUsable", BROKEN_KEY),
    }
    partial = "Lifeboat: daily backup PARTIAL for customers-db: no copy in eu-west-1"
    assert sorted(by_subject) == sorted(
        [*(f"Lifeboat: daily backup FAILED for {name} (us-east-1)" for name in expected), partial]
    )
    for name, (error, cause) in expected.items():
        message = by_subject[f"Lifeboat: daily backup FAILED for {name} (us-east-1)"]
        assert f"The daily backup of {failed.arn(name)} failed." in message
        assert f"Error: {error}" in message
        assert cause in message
        assert f"backup:{point_of(failed.arn(name))}" in message
        assert "NO new recovery point" in message
    # AND the partial backup's message says where the new point is, and why a copy is missing
    message = by_subject[partial]
    assert "made a new recovery point in us-east-1 and us-west-2" in message
    assert "The copy to eu-west-1 failed: ValidationFailed" in message and "lifeboat_tags" in message
    assert "NO new recovery point" not in message


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
    kinds = {t.value for t in OperationType}  # the state table also holds breakers and health
    stuck = {op["operationId"]: op["status"] for op in failed.cloud.operations() if op["type"] in kinds}
    assert {k: v for k, v in stuck.items() if v not in ("SUCCEEDED", "PARTIAL", "FAILED")} == {}
