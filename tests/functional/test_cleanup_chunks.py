"""Cleanup's Map items hold several resources, their snapshots described together (issue 19).

Before, each planned deletion described its snapshot alone: 2 of the 6 AWS calls a resource
costs a day. Now a Map item of up to ``CHUNK_SIZE`` deletions describes its RDS snapshots with
one call per region, and each resource's records are read once; every guard still holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.aws.clients import default_clients
from lifeboat.contracts.cleanup import CleanupPlanRequest, CleanupRequest, DeletionOutcome
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import LEGAL_HOLD_TAG
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import cleanup as service
from lifeboat.service.deps import Deps, deps_from_env

SOURCE, WEST = "us-east-1", "us-west-2"
NAMES = ("orders-db", "customers-db", "payments-db")


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        create_keys(local)
        local.put_config(
            {
                "policies": {
                    "orders": {
                        "environment": "staging",
                        "minRecoveryPoints": 1,
                        "drRegions": [{"region": WEST}],
                    }
                }
            }
        )
        yield local


def _fleet(cloud: LocalCloud) -> tuple[dict[str, str], Deps]:
    """Three instances, each with an expired daily point (40 days old) and a newer one."""
    now = datetime.now(UTC)
    runs = [(Tier.DAILY, now - timedelta(days=40)), (Tier.DAILY, now - timedelta(days=1))]
    deps = deps_from_env()
    expired = {}
    for name in NAMES:
        arn = create_instance(cloud, DemoInstance(name, "orders", encrypted=False), source_key="")
        seed_history(default_clients, deps.store, arn, deps.config().policy("orders"), runs)
        expired[arn] = recovery_point_id(arn, *runs[0])
    return expired, deps


def _snapshots(region: str) -> set[str]:
    found = default_clients("rds", region).describe_db_snapshots()["DBSnapshots"]
    return {s["DBSnapshotIdentifier"] for s in found}


class _Calls:
    """The RDS calls the emulated clients make, by (region, operation)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, model: Any, context: Any, **_: Any) -> None:
        self.counts[(context["client_region"], model.name)] += 1


@pytest.fixture
def rds_calls() -> Iterator[_Calls]:
    calls = _Calls()
    clients = [default_clients("rds", region) for region in (SOURCE, WEST)]
    for client in clients:
        client.meta.events.register("before-call.rds", calls)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call.rds", calls)


def _plan(deps: Deps) -> list[Any]:
    request = CleanupPlanRequest(request=CleanupRequest(), execution_start_time=datetime.now(UTC))
    return service.chunks(service.fleet_plan(request, deps))


def test_a_map_item_describes_its_snapshots_once_per_region(cloud: LocalCloud, rds_calls: _Calls) -> None:
    # GIVEN three resources whose expired point goes in us-east-1 and us-west-2: one Map item
    expired, deps = _fleet(cloud)
    (chunk,) = _plan(deps)
    assert [b.resource_arn for b in chunk.batches] == sorted(expired)
    rds_calls.counts.clear()
    # WHEN the delete step runs it
    result = service.delete_chunk(chunk, deps)
    calls = Counter(rds_calls.counts)
    # THEN exactly the planned points are gone, in both regions
    outcomes = [r.outcome for b in result.batches for r in b.results]
    assert outcomes == [DeletionOutcome.DELETED] * 6
    for region in (SOURCE, WEST):
        assert not set(expired.values()) & _snapshots(region)
    # AND each region's snapshots were described in one call, then deleted one by one (was: a
    # describe before each delete, 6 here)
    described = {k: n for k, n in calls.items() if k[1] == "DescribeDBSnapshots"}
    assert described == {(SOURCE, "DescribeDBSnapshots"): 1, (WEST, "DescribeDBSnapshots"): 1}
    assert sum(n for (_, op), n in calls.items() if op == "DeleteDBSnapshot") == 6


def test_a_legal_hold_tag_on_one_snapshot_keeps_it_and_only_it(cloud: LocalCloud) -> None:
    # GIVEN the plan, and then an operator's legal hold tag on customers-db's expired DR copy
    expired, deps = _fleet(cloud)
    (chunk,) = _plan(deps)
    customers = next(arn for arn in expired if arn.endswith(":customers-db"))
    held = expired[customers]
    rds = default_clients("rds", WEST)
    snapshot_arn = rds.describe_db_snapshots(DBSnapshotIdentifier=held)["DBSnapshots"][0]["DBSnapshotArn"]
    rds.add_tags_to_resource(ResourceName=snapshot_arn, Tags=[{"Key": LEGAL_HOLD_TAG, "Value": "case-42"}])
    # WHEN the delete step runs the Map item
    result = service.delete_chunk(chunk, deps)
    # THEN the held copy is refused with why, and stays; every other planned point is gone
    refused = [
        (b.resource_arn, r.region)
        for b in result.batches
        for r in b.results
        if r.outcome is DeletionOutcome.REFUSED
    ]
    assert refused == [(customers, WEST)]
    assert held in _snapshots(WEST)
    assert not (set(expired.values()) - {held}) & _snapshots(WEST)
    assert not set(expired.values()) & _snapshots(SOURCE)


def test_a_map_item_run_again_deletes_nothing_more_and_says_already_deleted(cloud: LocalCloud) -> None:
    # GIVEN a Map item whose deletions were all made (the Map retried it after a lost answer)
    _, deps = _fleet(cloud)
    (chunk,) = _plan(deps)
    service.delete_chunk(chunk, deps)
    # WHEN it runs again THEN every deletion reports it was already made, and nothing fails
    again = service.delete_chunk(chunk, deps)
    assert {r.outcome for b in again.batches for r in b.results} == {DeletionOutcome.ALREADY_DELETED}


def test_map_items_hold_at_most_chunk_size_deletions(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three resources with 2 planned deletions each, and Map items of at most 3
    monkeypatch.setattr(service, "CHUNK_SIZE", 3)
    expired, _ = _fleet(cloud)
    # WHEN the run is planned THEN each item holds 3 deletions, a resource split only at the size
    first, second, third = sorted(expired)
    items = [[(b.resource_arn, len(b.deletions)) for b in c.batches] for c in _plan(deps_from_env())]
    assert items == [[(first, 2), (second, 1)], [(second, 1), (third, 2)]]
