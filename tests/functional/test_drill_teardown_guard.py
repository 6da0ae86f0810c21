"""Drill teardown deletes only what both the resource's tags and the state table say a drill
restored (issue 12): tags can be copied onto any resource, and a teardown step's input can be
forged, so the tags alone are not enough."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.errors import ResourceNotReady, TeardownRefused
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

EVENTS = Path(__file__).resolve().parents[2] / "events" / "restore"


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        yield local


def _drill_step() -> dict[str, Any]:
    return dict(json.loads((EVENTS / "drill_step.json").read_text()))


def _tagged_like_the_drills_resource(cloud: LocalCloud, plan: dict[str, Any]) -> None:
    """A DB instance named and tagged exactly as the step's drill resource would be."""
    spec = plan["spec"]
    cloud.client("rds", spec["region"]).create_db_instance(
        DBInstanceIdentifier=spec["targetId"],
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        MasterUsername="lifeboat",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        Tags=[{"Key": k, "Value": v} for k, v in spec["tags"].items()],
    )


def _instances(cloud: LocalCloud, region: str) -> set[str]:
    return {
        i["DBInstanceIdentifier"] for i in cloud.client("rds", region).describe_db_instances()["DBInstances"]
    }


def _record_drill(plan: dict[str, Any]) -> None:
    deps_from_env().store.open(
        operation_id=plan["operationId"],
        type=OperationType.DRILL,
        resource_arn=plan["resourceArn"],
        region=plan["region"],
        status=OperationStatus.RUNNING,
        retain_days=30,
        recovery_point_id=plan["recoveryPointId"],
        details={"plan": plan},
    )


def test_a_teardown_of_a_drill_the_state_table_never_recorded_deletes_nothing(cloud: LocalCloud) -> None:
    # GIVEN an instance carrying a drill's tags, and no drill recorded in the state table
    step = _drill_step()
    plan = step["plan"]
    _tagged_like_the_drills_resource(cloud, plan)
    # WHEN the teardown function is invoked with a step naming it (a forged or stale input)
    with pytest.raises(TeardownRefused, match="not recorded as the temporary resource"):
        cloud.invoke_function("TeardownFunction", step)
    # THEN the instance still exists
    assert plan["spec"]["targetId"] in _instances(cloud, plan["region"])


def test_a_teardown_whose_target_differs_from_the_recorded_plan_deletes_nothing(cloud: LocalCloud) -> None:
    # GIVEN a recorded drill whose plan restored into another target
    step = _drill_step()
    plan = step["plan"]
    _tagged_like_the_drills_resource(cloud, plan)
    _record_drill(plan | {"spec": plan["spec"] | {"targetId": "lbdrill-orders-db-other"}})
    # WHEN the teardown step names this instance THEN it is refused and the instance stays
    with pytest.raises(TeardownRefused):
        cloud.invoke_function("TeardownFunction", step)
    assert plan["spec"]["targetId"] in _instances(cloud, plan["region"])


def test_a_recorded_drills_own_resource_is_torn_down(cloud: LocalCloud) -> None:
    # GIVEN the drill recorded in the state table and its tagged temporary instance
    step = _drill_step()
    plan = step["plan"]
    _tagged_like_the_drills_resource(cloud, plan)
    _record_drill(plan)
    # WHEN the teardown step runs (it answers ResourceNotReady while the delete is under way, and
    # the workflow retries it) THEN the instance is deleted and the retried step reports it gone
    with pytest.raises(ResourceNotReady):
        cloud.invoke_function("TeardownFunction", step)
    assert plan["spec"]["targetId"] not in _instances(cloud, plan["region"])
    assert cloud.invoke_function("TeardownFunction", step)["state"] == "gone"
