"""Shared set-up of the state machine tests: an emulated account running the real backup ASL."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from lifeboat.aws.tags import tag_dict
from lifeboat.contracts.backup import PlanSummary
from lifeboat.contracts.restore import DrillRunSummary
from lifeboat.demo.fleet import DEMO_INSTANCES, DemoFleet, DemoInstance, seed_demo_fleet
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.operations import Operation
from lifeboat.domain.policy import Tier
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import drill_run, run_plan

SOURCE = "us-east-1"
DR_REGIONS = ("us-west-2", "eu-west-1")
SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
# Retry intervals of an hour and more take a fraction of a second.
FAST = 0.0001


def demo_instances(*names: str) -> tuple[DemoInstance, ...]:
    found = tuple(i for i in DEMO_INSTANCES if i.name in names)
    assert len(found) == len(names), f"not in the demo fleet: {set(names) - {i.name for i in found}}"
    return found


@contextmanager
def instance_fleet(
    log_dir: Path, *names: str, time_scale: float = FAST
) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """An emulated account holding the named demo RDS instances and the demo config."""
    with LocalCloud(time_scale=time_scale, log_file=log_dir / "local.log") as cloud:
        yield (
            cloud,
            seed_demo_fleet(
                cloud, instances=demo_instances(*names), clusters=(), volumes=(), tables=(), caches=()
            ),
        )


def point_of(arn: str, at: datetime = SCHEDULED_AT) -> str:
    return recovery_point_id(arn, Tier.DAILY, at)


def backup_of(cloud: LocalCloud, arn: str, at: datetime = SCHEDULED_AT) -> Operation:
    operation = cloud.store().get(backup_operation_id(point_of(arn, at)))
    assert operation is not None, f"no backup operation for {arn}"
    return operation


def copy_of(cloud: LocalCloud, arn: str, region: str, at: datetime = SCHEDULED_AT) -> Operation | None:
    return cloud.store().get(copy_operation_id(point_of(arn, at), region))


def manual_snapshots(cloud: LocalCloud, region: str) -> dict[str, dict[str, Any]]:
    """The manual DB snapshots of a region by id (RDS's automated ones are not recovery points)."""
    found = cloud.client("rds", region).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return {s["DBSnapshotIdentifier"]: s for s in found}


def snapshot_counts(cloud: LocalCloud) -> dict[str, int]:
    return {region: len(manual_snapshots(cloud, region)) for region in (SOURCE, *DR_REGIONS)}


def tags(described: dict[str, Any]) -> dict[str, str]:
    """The tags of a described snapshot or instance, as a dict."""
    return tag_dict(described.get("TagList"))


def run(cloud: LocalCloud, execution_arn: str) -> dict[str, Any]:
    """Wait for an execution; its description, with the output parsed."""
    described = cloud.wait(execution_arn, timeout=120)
    if "output" in described:
        described["output"] = json.loads(described["output"])
        if "resourceCount" in described["output"]:
            # A backup run: its whole plan (resources and skipped) is in the stack's bucket.
            summary = PlanSummary.model_validate(described["output"])
            plan = run_plan.read(summary, cloud.client("s3"))
            described["output"] = plan.model_dump(mode="json", by_alias=True, exclude_none=True)
        elif "drillCount" in described["output"]:
            # A drill run: its results and skipped resources are in the stack's bucket.
            drills = DrillRunSummary.model_validate(described["output"])
            described["output"]["results"] = drill_run.results(drills, cloud.client("s3"))
            skipped = drill_run.skipped(drills, cloud.client("s3"))
            described["output"]["skipped"] = [s.model_dump(mode="json", by_alias=True) for s in skipped]
    return described


def backup_cycle_bench() -> ModuleType:
    """bench/backup_cycle.py, whose call and transition counters the tests reuse."""
    path = Path(__file__).resolve().parents[2] / "bench" / "backup_cycle.py"
    spec = importlib.util.spec_from_file_location("backup_cycle_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def largest_payload(cloud: LocalCloud, execution_arn: str) -> int:
    """The largest input or output any state of the execution carried, in bytes."""
    sfn = cloud.client("stepfunctions")
    sizes = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            for key, details in event.items():
                if key.endswith("EventDetails") and isinstance(details, dict):
                    sizes += [len(str(details.get(field, "")).encode()) for field in ("input", "output")]
    return max(sizes)


def tagged_instance(rds: Any, index: int, policy: str) -> str:
    """A small RDS instance of a fleet, tagged with ``policy``: its ARN."""
    created = rds.create_db_instance(
        DBInstanceIdentifier=f"payments-ledger-shard-{index:05d}-db",
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="lifeboat",
        MasterUserPassword="not-a-real-password-1",
        Tags=[{"Key": "lifeboat:policy", "Value": policy}],
    )
    return str(created["DBInstance"]["DBInstanceArn"])
