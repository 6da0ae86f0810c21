"""The real drill workflow (statemachines/drill.asl.json) against real PostgreSQL data: a clean
backup passes every check; truncated, altered or reshaped data is caught by the check that names
it; an unloadable copy fails the restore; teardown happens every time, also on emergency stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeboat.domain.operations import OperationStatus
from lifeboat.service.drill_control import stop_drills

from .backup_support import run
from .restore_support import (
    DAY1,
    WEST,
    World,
    backed_up_world,
    dump_changed,
    unloadable,
    with_changed_amount,
    with_widened_column,
    without_newest_orders,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """GIVEN orders-db (prod, data-checked, DR copies in us-west-2 and eu-west-1) and reports-db
    (staging, no data checks), backed up on two days by the real backup workflow."""
    # Retry intervals at 1/100: a drill waiting for its restore stays in that state long enough
    # to be stopped by hand (at 1/10,000 its 4-hour budget runs out in a second).
    with backed_up_world(tmp_path_factory.mktemp("drill"), "orders-db", "reports-db", time_scale=0.01) as w:
        yield w


def drill(world: World, name: str = "orders-db") -> dict[str, Any]:
    """Drill one resource; the single result of the run."""
    described = world.start("DrillStateMachine", {"resources": [world.arn(name)], "trigger": "manual"})
    assert described["status"] == "SUCCEEDED", described
    [result] = described["output"]["results"]
    return dict(result)


def newest_orders_dump(world: World) -> Path:
    return world.plane.dump_of(WEST, world.point("orders-db"))


def test_a_clean_backup_passes_every_check_and_is_marked_restore_tested(world: World) -> None:
    # WHEN orders-db is drilled
    result = drill(world)
    # THEN the drill passed with every level-1 and level-2 check, in the first DR region
    operation = world.operation(result["operationId"])
    assert (operation.status, operation.region, result["failedChecks"]) == (
        OperationStatus.SUCCEEDED,
        WEST,
        [],
    )
    checks = {c["name"]: c for c in operation.details["checks"]}
    assert {
        "schema_fingerprint",
        "row_count:public.orders",
        "checksum:public.orders",
        "row_count:public.customers",
        "checksum:public.customers",
        "canary",
        "kms_key",
        "not_publicly_accessible",
    } <= set(checks)
    assert all(c["passed"] for c in checks.values())
    # AND the measured RTO and data age are recorded
    assert operation.details["rtoSeconds"] > 0
    assert 0 < operation.details["dataAgeSeconds"] < 600  # orders were written up to seeding time
    # AND the copy it restored is marked restore-tested
    copy = world.operation(f"copy:{world.point('orders-db')}:{WEST}")
    assert copy.details["restoreTested"]["drill"] == result["operationId"]
    # AND nothing is left behind: the instance and its database are gone
    assert world.drill_leftovers() == []


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        pytest.param(
            without_newest_orders(200), ["row_count:public.orders", "checksum:public.orders"], id="truncated"
        ),
        pytest.param(with_changed_amount, ["checksum:public.orders"], id="altered-row"),
        pytest.param(with_widened_column, ["schema_fingerprint"], id="schema-changed"),
    ],
)
def test_bad_data_fails_the_drill_naming_the_check_and_is_torn_down(
    world: World, change: Any, failed: list[str]
) -> None:
    # GIVEN the newest us-west-2 copy of orders-db holds damaged data
    with dump_changed(newest_orders_dump(world), change):
        # WHEN it is drilled
        result = drill(world)
    # THEN the drill FAILED and names exactly the checks that caught it
    operation = world.operation(result["operationId"])
    assert (operation.status, operation.error) == (OperationStatus.FAILED, "ChecksFailed")
    assert result["failedChecks"] == failed
    assert all(name in (operation.cause or "") for name in failed)
    # AND the temporary instance was torn down anyway, and the point is not marked tested by it
    assert world.drill_leftovers() == []
    copy = world.operation(f"copy:{world.point('orders-db')}:{WEST}")
    assert copy.details.get("restoreTested", {}).get("drill") != result["operationId"]


def test_a_copy_that_cannot_be_restored_fails_the_drill_and_is_torn_down(world: World) -> None:
    with dump_changed(newest_orders_dump(world), unloadable):
        result = drill(world)
    operation = world.operation(result["operationId"])
    assert (operation.status, operation.error) == (OperationStatus.FAILED, "RestoreFailed")
    assert operation.details.get("tornDownAt")
    assert world.drill_leftovers() == []


def test_a_resource_without_a_valid_copy_in_its_drill_region_fails_before_restoring(world: World) -> None:
    # GIVEN reports-db's us-west-2 copies are all marked deleted (as cleanup records them)
    store = world.cloud.store()
    for day_point in (world.point("reports-db"), world.point("reports-db", DAY1)):
        store.record_details(f"copy:{day_point}:{WEST}", {"deletedAt": "2026-11-22T07:00:00Z"})
    # WHEN it is drilled
    result = drill(world, "reports-db")
    # THEN the drill FAILED with the reason, and nothing was restored
    operation = world.operation(result["operationId"])
    assert (operation.status, operation.error) == (OperationStatus.FAILED, "RecoveryPointNotFound")
    assert "no valid recovery point in us-west-2" in (operation.cause or "")
    assert world.drill_leftovers() == []


def test_a_scheduled_run_drills_only_policies_that_enable_drills(world: World) -> None:
    # GIVEN drills are enabled for the prod policy only
    config = dict(world.fleet.config)
    config["policies"] = dict(config["policies"]) | {
        "prod": config["policies"]["prod"] | {"drill": {"enabled": True}}
    }
    world.cloud.put_config(config)
    try:
        # WHEN the weekly drill schedule fires
        described = run(world.cloud, world.cloud.deliver_schedule("DrillSchedule", DAY1))
    finally:
        world.cloud.put_config(world.fleet.config)
    # THEN orders-db (prod) was drilled and reports-db (staging) skipped with the reason
    output = described["output"]
    assert [r["resourceArn"] for r in output["results"]] == [world.arn("orders-db")]
    assert {s["arn"]: s["reason"] for s in output["skipped"]} == {
        world.arn("reports-db"): "drills are not enabled in policy 'staging'"
    }


def test_emergency_stop_aborts_a_running_drill_and_tears_it_down(world: World) -> None:
    # GIVEN a drill whose restored instance stays "creating" (a large restore in progress)
    plane_hold = _HoldRestores(world)
    plane_hold.start()
    try:
        execution = world.cloud.start_execution(
            "DrillStateMachine", {"resources": [world.arn("orders-db")], "trigger": "manual"}
        )
        target = plane_hold.wait_for_restore()
        # WHEN an operator runs the emergency stop
        cloud = world.cloud
        report = stop_drills(
            cloud.client("stepfunctions"),
            cloud.state_machines["DrillStateMachine"],
            cloud.store(),
            lambda payload: cloud.invoke_function("TeardownFunction", payload),
            sweep_after=0.2,
        )
    finally:
        plane_hold.stop()
    # THEN the execution was stopped, the drill recorded FAILED (aborted) and its instance deleted
    assert report.executions_stopped == [execution]
    # (AWS reports ABORTED; moto 5.2.5 ends a stopped inline Map with an internal error: FAILED)
    assert cloud.wait(execution)["status"] in ("ABORTED", "FAILED")
    [(operation_id, state)] = report.teardowns.items()
    assert state == "gone"
    operation = world.operation(operation_id)
    assert (operation.status, operation.error) == (OperationStatus.FAILED, "DrillAborted")
    assert target not in world.instances(WEST)
    assert world.drill_leftovers() == []


class _HoldRestores:
    """Keeps drill instances 'creating' (as a real restore of a large database is for a while)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.restored = threading.Event()
        self.target = ""

    def _hold(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        from moto.rds.models import rds_backends

        if http_response.status_code < 300:
            self.target = parsed["DBInstance"]["DBInstanceIdentifier"]
            rds_backends["123456789012"][WEST].databases[self.target].status = "creating"
            self.restored.set()

    def start(self) -> None:
        import boto3
        from lifeboat.aws.clients import default_clients

        boto3._get_default_session().events.register(
            "after-call.rds.RestoreDBInstanceFromDBSnapshot", self._hold
        )
        # A client copies the session's hooks when it is created: new clients see this one.
        default_clients.clear()

    def stop(self) -> None:
        import boto3

        boto3._get_default_session().events.unregister(
            "after-call.rds.RestoreDBInstanceFromDBSnapshot", self._hold
        )

    def wait_for_restore(self) -> str:
        assert self.restored.wait(60), "the drill never started its restore"
        return self.target
