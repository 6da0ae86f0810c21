"""The real restore and drill ASL over an ElastiCache Redis group backed up by the daily workflow:
a restore makes a new group in the cache's region, a drill restores, checks and tears down its own
group, and a point-in-time restore (which Redis lacks) is refused before anything is created."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lifeboat.demo.fleet import DemoCache, DemoFleet, seed_demo_fleet
from lifeboat.domain.operations import OperationStatus
from lifeboat.local.runtime import LocalCloud

from .backup_support import FAST, SCHEDULED_AT, point_of, run


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """GIVEN sessions-redis (cache policy: no DR regions), encrypted under the application key,
    backed up by the real daily workflow."""
    log = tmp_path_factory.mktemp("restore-redis") / "local.log"
    with LocalCloud(time_scale=FAST, log_file=log) as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=(),
            clusters=(),
            volumes=(),
            tables=(),
            caches=(DemoCache("sessions-redis", "cache", encrypted=True),),
        )
        assert run(cloud, cloud.start_backup("daily", SCHEDULED_AT))["status"] == "SUCCEEDED"
        yield cloud, fleet


def _groups(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    found = cloud.client("elasticache").describe_replication_groups()["ReplicationGroups"]
    return {g["ReplicationGroupId"]: g for g in found}


def test_a_restore_creates_a_new_group_from_the_snapshot_and_checks_it(
    backed_up: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = backed_up
    arn = fleet.caches["sessions-redis"]
    # WHEN an operator restores sessions-redis under a new name
    described = run(
        cloud,
        cloud.start_execution(
            "RestoreStateMachine", {"resourceArn": arn, "targetIdentifier": "sessions-restored"}
        ),
    )
    # THEN a new group exists in us-east-1, under the point's key, tagged as restored from it
    assert described["status"] == "SUCCEEDED", described
    restored = _groups(cloud)["sessions-restored"]
    assert (restored["AtRestEncryptionEnabled"], restored["KmsKeyId"]) == (True, fleet.source_key)
    tags = cloud.client("elasticache").list_tags_for_resource(ResourceName=restored["ARN"])["TagList"]
    assert {"Key": "lifeboat:restored-from", "Value": point_of(arn)} in tags
    # AND every level-1 check of the restored group passed (public access and deletion protection
    # do not exist for ElastiCache: not applicable), with a measured RTO
    operation = cloud.store().get(described["output"]["operationId"])
    assert operation is not None and operation.status is OperationStatus.SUCCEEDED
    checks = {c["name"]: c["passed"] for c in operation.details["checks"]}
    assert checks == dict.fromkeys(
        (
            "available",
            "not_publicly_accessible",
            "encrypted",
            "kms_key",
            "engine",
            "deletion_protection",
            "lifeboat_tags",
        ),
        True,
    )
    assert operation.details["rtoSeconds"] > 0


def test_a_drill_restores_checks_and_removes_its_own_group(backed_up: tuple[LocalCloud, DemoFleet]) -> None:
    cloud, fleet = backed_up
    arn = fleet.caches["sessions-redis"]
    before = set(_groups(cloud))
    # WHEN a drill of sessions-redis runs (in its own region: its policy has no DR region)
    described = run(
        cloud, cloud.start_execution("DrillStateMachine", {"resources": [arn], "trigger": "manual"})
    )
    # THEN it passed, and its temporary lbdrill- group is gone while every other group is untouched
    assert described["status"] == "SUCCEEDED", described
    [result] = described["output"]["results"]
    assert (result["status"], result["region"], result["failedChecks"]) == ("SUCCEEDED", "us-east-1", [])
    assert set(_groups(cloud)) == before
    drill = cloud.store().get(result["operationId"])
    assert drill is not None and "tornDownAt" in drill.details


def test_a_point_in_time_restore_is_refused_and_creates_nothing(
    backed_up: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = backed_up
    before = set(_groups(cloud))
    # WHEN an operator asks for sessions-redis as of 02:00
    described = run(
        cloud,
        cloud.start_execution(
            "RestoreStateMachine",
            {
                "resourceArn": fleet.caches["sessions-redis"],
                "pointInTime": "2026-11-22T02:00:00Z",
                "targetIdentifier": "sessions-pitr",
            },
        ),
    )
    # THEN the workflow fails with UnsupportedOperation saying to restore a snapshot, nothing created
    assert (described["status"], described.get("error")) == ("FAILED", "UnsupportedOperation")
    assert "restore a recovery point (a snapshot) instead" in described["cause"]
    assert set(_groups(cloud)) == before
