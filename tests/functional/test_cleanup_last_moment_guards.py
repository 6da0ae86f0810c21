"""Cleanup decides again immediately before each delete, not only at plan time (issue 12).

The plan and the deletions are separate workflow steps, minutes apart on a large fleet. Whatever
changes in between — ``forceRetain`` set on the policy, the newer point failing so that the one
planned for deletion is now the last good copy, a drill starting to restore from it — must keep
the point. Each test plans, changes one thing, then runs the real delete step.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lifeboat.aws.clients import default_clients
from lifeboat.contracts.cleanup import CleanupPlanRequest, CleanupRequest, DeletionBatch, DeletionOutcome
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.ids import backup_operation_id, recovery_point_id
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Tier
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import cleanup as service
from lifeboat.service.deps import Deps, deps_from_env

SOURCE, WEST = "us-east-1", "us-west-2"


def _config(*, force_retain: bool = False) -> dict[str, object]:
    # One point is enough to keep: the newest valid one decides alone what may go.
    return {
        "policies": {
            "orders": {
                "environment": "staging",
                "minRecoveryPoints": 1,
                "forceRetain": force_retain,
                "drRegions": [{"region": WEST}],
            }
        }
    }


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        create_keys(local)
        local.put_config(_config())
        yield local


def _history(cloud: LocalCloud) -> tuple[str, str, str, Deps]:
    """orders-db with an expired daily point (40 days old) and the newest one (1 day old)."""
    arn = create_instance(cloud, DemoInstance("orders-db", "orders", encrypted=False), source_key="")
    now = datetime.now(UTC)
    runs = [(Tier.DAILY, now - timedelta(days=40)), (Tier.DAILY, now - timedelta(days=1))]
    deps = deps_from_env()
    seed_history(default_clients, deps.store, arn, deps.config().policy("orders"), runs)
    old, new = (recovery_point_id(arn, tier, at) for tier, at in runs)
    return arn, old, new, deps


def _planned_batch(deps: Deps, old: str) -> DeletionBatch:
    fleet = service.fleet_plan(
        CleanupPlanRequest(request=CleanupRequest(), execution_start_time=datetime.now(UTC)), deps
    )
    (chunk,) = service.chunks(fleet)
    (batch,) = chunk.batches
    assert {(d.recovery_point_id, d.region) for d in batch.deletions} == {(old, SOURCE), (old, WEST)}
    return batch


def _snapshots(region: str) -> set[str]:
    found = default_clients("rds", region).describe_db_snapshots()["DBSnapshots"]
    return {s["DBSnapshotIdentifier"] for s in found}


def test_force_retain_set_after_the_plan_keeps_every_point(cloud: LocalCloud) -> None:
    # GIVEN a plan that deletes the expired point in both regions
    _, old, _, deps = _history(cloud)
    batch = _planned_batch(deps, old)
    # WHEN an operator sets forceRetain on the policy before the delete step runs
    cloud.put_config(_config(force_retain=True))
    result = service.delete_batch(batch, deps)
    # THEN nothing is deleted: both deletions are refused, saying why, and the snapshots exist
    assert [r.outcome for r in result.results] == [DeletionOutcome.REFUSED] * 2
    assert all("forceRetain" in r.detail for r in result.results)
    assert old in _snapshots(SOURCE) and old in _snapshots(WEST)


def test_a_newer_point_that_fails_after_the_plan_leaves_the_old_one_as_the_last_good_copy(
    cloud: LocalCloud,
) -> None:
    # GIVEN a plan that deletes the old point because a newer valid one exists in us-east-1
    _, old, new, deps = _history(cloud)
    batch = _planned_batch(deps, old)
    # WHEN the newer point turns out invalid in us-east-1 before the delete step runs
    deps.store.record_details(backup_operation_id(new), {f"validation_{SOURCE}": {"valid": False}})
    result = service.delete_batch(batch, deps)
    # THEN the old point, now the newest valid one there, is kept in us-east-1; us-west-2, where
    # the newer copy is still valid, lets the old copy go
    by_region = {r.region: r for r in result.results}
    assert by_region[SOURCE].outcome is DeletionOutcome.REFUSED
    assert "newest valid" in by_region[SOURCE].detail
    assert by_region[WEST].outcome is DeletionOutcome.DELETED
    assert old in _snapshots(SOURCE) and old not in _snapshots(WEST)


def test_a_drill_that_starts_after_the_plan_keeps_the_point_it_restores_from(cloud: LocalCloud) -> None:
    # GIVEN a plan that deletes the old point in both regions
    arn, old, _, deps = _history(cloud)
    batch = _planned_batch(deps, old)
    # WHEN a drill starts restoring the old point's us-west-2 copy before the delete step runs
    deps.store.open(
        operation_id="drill:lbdrill-orders-db-test:us-west-2",
        type=OperationType.DRILL,
        resource_arn=arn,
        region=WEST,
        status=OperationStatus.RUNNING,
        retain_days=30,
        recovery_point_id=old,
        detail="restoring",
    )
    result = service.delete_batch(batch, deps)
    # THEN the point is kept, in every region (as at plan time: a point in use is not deleted
    # anywhere while the drill runs), and the refusal names the drill
    assert [r.outcome for r in result.results] == [DeletionOutcome.REFUSED] * 2
    assert all("drill:lbdrill-orders-db-test" in r.detail for r in result.results)
    assert old in _snapshots(WEST) and old in _snapshots(SOURCE)


def test_with_nothing_changed_the_delete_step_deletes_what_was_planned(cloud: LocalCloud) -> None:
    # GIVEN a plan, WHEN nothing changes before the delete step, THEN both planned points go
    _, old, new, deps = _history(cloud)
    result = service.delete_batch(_planned_batch(deps, old), deps)
    assert [r.outcome for r in result.results] == [DeletionOutcome.DELETED] * 2
    assert old not in _snapshots(SOURCE) | _snapshots(WEST)
    assert new in _snapshots(SOURCE) and new in _snapshots(WEST)
