"""A backup run's plan at fleet size (issue 19): it passes through the stack's bucket.

Inline, the plan cost about 80 bytes per resource and failed a run of about 3,200 resources at its
first step (Step Functions' 256 KiB limit). The plan step now writes the planned resources as the
Distributed Map's items (ItemReader) and the payload carries counts and locations only.

5,000 instances are backed up "already": each has its run's backup recorded SUCCEEDED, so each
child ends at its first step (a replayed schedule), which keeps the run to the plan and the Map.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lifeboat.domain.ids import backup_operation_id, recovery_point_id, run_id
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Tier
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

from .backup_support import largest_payload, tagged_instance

FLEET = 5000
PAYLOAD_BOUND = 64 * 1024
AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
CONFIG = {"policies": {"fleet": {"environment": "staging", "drRegions": [{"region": "us-west-2"}]}}}


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    # moto makes an automated snapshot per instance and counts it against its quota of 1,000.
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", str(2 * FLEET))
    with LocalCloud() as local:
        local.put_config(CONFIG)
        yield local


def _fleet_already_backed_up(cloud: LocalCloud) -> list[str]:
    rds, store = cloud.client("rds"), deps_from_env().store
    arns = []
    for index in range(FLEET):
        arn = tagged_instance(rds, index, "fleet")
        point = recovery_point_id(arn, Tier.DAILY, AT)
        store.open(
            operation_id=backup_operation_id(point),
            type=OperationType.BACKUP,
            resource_arn=arn,
            region=cloud.region,
            retain_days=7,
            status=OperationStatus.SUCCEEDED,
            recovery_point_id=point,
            run_id=run_id(Tier.DAILY, AT),
            tier=Tier.DAILY.value,
            policy="fleet",
        )
        arns.append(arn)
    return arns


@pytest.mark.timeout(900)  # about 3 minutes alone: 5,000 instances made, planned and mapped
def test_a_5000_resource_plan_passes_through_the_bucket_with_no_payload_above_64_kib(
    cloud: LocalCloud,
) -> None:
    # GIVEN 5,000 protected instances whose daily backup of 03:00 is already recorded
    arns = _fleet_already_backed_up(cloud)
    # WHEN the daily schedule delivers that run
    execution = cloud.deliver_schedule("DailyBackupSchedule", AT)
    described = cloud.wait(execution, timeout=600)
    # THEN the run SUCCEEDED with every instance planned, and its plan is in the stack's bucket
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert (output["resourceCount"], output["skippedCount"]) == (FLEET, 0)
    s3 = cloud.client("s3")
    items = json.loads(
        s3.get_object(Bucket=output["items"]["bucket"], Key=output["items"]["key"])["Body"].read()
    )
    assert sorted(item["arn"] for item in items) == sorted(arns)
    # AND no state of the run carried more than 64 KiB
    largest = largest_payload(cloud, execution)
    assert largest < PAYLOAD_BOUND, largest
    # AND no backup was recorded twice: each child found its run's backup already SUCCEEDED
    backups = [op for op in cloud.operations() if op["type"] == "BACKUP"]
    assert len(backups) == FLEET and all(op["status"] == "SUCCEEDED" for op in backups)
