"""Cleanup at fleet size (issue 19): no state payload grows with the fleet.

The cleanup workflow once carried every planned deletion in its state: with a daily-only policy,
2 DR regions and 30-character names it reached Step Functions' 256 KiB limit at about 170
resources and failed with States.DataLimitExceeded, after its deletions were made. Its batches now
pass through the stack's bucket (ItemReader) and its results come back the same way
(ResultWriter). The per-run budget follows what the fleet expires a day, so 600 expiring points
are deleted in one run although the deployment's ceiling is 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.aws.clients import default_clients
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

from .backup_support import largest_payload

SOURCE, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
REGIONS = (SOURCE, WEST, EU)
FLEET = 200
# Daily points only, one kept besides the newest: each resource expires 3 points a day (source
# and two DR regions), so the fleet expires 600 a day, above the deployment's ceiling of 500.
CONFIG = {
    "policies": {
        "fleet": {
            "environment": "staging",
            "minRecoveryPoints": 1,
            "retentionDays": {"daily": 7},
            "drRegions": [{"region": WEST}, {"region": EU}],
        }
    }
}
PAYLOAD_BOUND = 64 * 1024


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        create_keys(local)
        local.put_config(CONFIG)
        yield local


def _name(index: int) -> str:
    """A 30-character database identifier."""
    return f"payments-ledger-shard-{index:05d}-db"


def _fleet_with_one_expired_point_each(cloud: LocalCloud) -> dict[str, str]:
    """FLEET databases, each with an expired daily point (10 days old) and yesterday's."""
    now = datetime.now(UTC)
    deps = deps_from_env()
    policy = deps.config().policy("fleet")
    runs = [(Tier.DAILY, now - timedelta(days=10)), (Tier.DAILY, now - timedelta(days=1))]
    expired = {}
    for index in range(FLEET):
        name = _name(index)
        assert len(name) == 30
        arn = create_instance(cloud, DemoInstance(name, "fleet", encrypted=False), source_key="")
        seed_history(default_clients, deps.store, arn, policy, runs)
        expired[arn] = recovery_point_id(arn, *runs[0])
    return expired


def _snapshots(region: str) -> set[str]:
    pages = default_clients("rds", region).get_paginator("describe_db_snapshots").paginate()
    return {s["DBSnapshotIdentifier"] for page in pages for s in page["DBSnapshots"]}


def _planned(plan: dict[str, Any]) -> set[tuple[str, str]]:
    items = plan["items"]
    written = default_clients("s3", SOURCE).get_object(Bucket=items["bucket"], Key=items["key"])
    chunks = json.loads(written["Body"].read())
    return {
        (d["recoveryPointId"], d["region"])
        for c in chunks
        for batch in c["batches"]
        for d in batch["deletions"]
    }


def test_a_200_resource_cleanup_deletes_exactly_its_plan_with_no_payload_above_64_kib(
    cloud: LocalCloud,
) -> None:
    # GIVEN 200 databases with 30-character names, each with one expired daily point in 3 regions
    expired = _fleet_with_one_expired_point_each(cloud)
    before = {region: _snapshots(region) for region in REGIONS}
    # WHEN a dry run plans the cleanup, then the daily cleanup runs
    dry = cloud.wait(cloud.start_execution("CleanupStateMachine", {"dryRun": True}))
    plan = json.loads(dry["output"])
    execution = cloud.start_execution(
        "CleanupStateMachine", {"dryRun": False, "trigger": "schedule"}, name="daily-cleanup"
    )
    described = cloud.wait(execution)
    # THEN the run SUCCEEDED and its budget follows the fleet's expiry (600 a day, budget 900)
    assert described["status"] == "SUCCEEDED", described
    report = json.loads(described["output"])
    assert (report["dailyExpiry"], report["maxDeletions"]) == (600, 900)
    # AND it deleted exactly what the plan says: every expired point in every region, nothing else
    wanted = {(point, region) for point in expired.values() for region in REGIONS}
    assert _planned(plan) == wanted
    assert (report["deleted"], report["refused"], report["deferred"]) == (600, 0, 0)
    for region in REGIONS:
        gone = before[region] - _snapshots(region)
        assert gone == {point for point, where in wanted if where == region}, region
    # AND no state of the run carried more than 64 KiB (the limit is 256 KiB)
    largest = largest_payload(cloud, execution)
    assert largest < PAYLOAD_BOUND, largest
    # AND nobody was told of a failure or a backlog
    assert cloud.notifications() == []
