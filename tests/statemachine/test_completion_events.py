"""Snapshots and copies are waited for by their completion events, not by polling (issue 19).

The backup's CreateSnapshot and CopyToRegion tasks wait for their token; the RDS event of the
finished point resumes them (local mode makes points take time and sends the events AWS sends).
What an operator cares about: a backup whose snapshot takes 2 hours and copies 4 is validated once
per point (no poll while it is made), and a lost event costs time, never the backup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

from .backup_support import DR_REGIONS, backup_of, copy_of, instance_fleet, manual_snapshots, point_of, run

NAMES = ("orders-db", "payments-db")
# On a clock where an hour takes 0.36 s, a 2-hour snapshot and 4-hour copies (0.72 s and
# 1.44 s: long beside a handler's run, short beside a wait's timeout, 5 s at least locally).
SCALE = 0.0001
SNAPSHOT_SECONDS, COPY_SECONDS = 2 * 3600, 4 * 3600


def _invocations(cloud: Any, function: str) -> int:
    return sum(n for name, n in cloud.lambdas.invocations.items() if name.endswith(f"-{function}"))


def _waiters(cloud: Any) -> list[str]:
    items = cloud.client("dynamodb").scan(TableName=cloud.table_name)["Items"]
    return [i["operationId"]["S"] for i in items if i["operationId"]["S"].startswith("wait:")]


def _assert_backed_up(cloud: Any, fleet: Any) -> None:
    for name in NAMES:
        arn = fleet.instances[name]
        assert backup_of(cloud, arn).status.value == "SUCCEEDED", name
        for region in DR_REGIONS:
            operation = copy_of(cloud, arn, region)
            assert operation is not None and operation.status.value == "SUCCEEDED", (name, region)
            assert manual_snapshots(cloud, region)[point_of(arn)]["Status"] == "available"


def test_points_that_take_time_are_validated_once_each_when_their_event_arrives(
    tmp_path: Path, load_event: Any
) -> None:
    # GIVEN 2 prod instances whose snapshots take 2 hours and whose copies take 4
    with instance_fleet(tmp_path, *NAMES, time_scale=SCALE) as (cloud, fleet):
        cloud.point_events.times.snapshot_seconds = SNAPSHOT_SECONDS
        cloud.point_events.times.copy_seconds = COPY_SECONDS
        cloud.lambdas.invocations.clear()
        # WHEN the daily backup runs
        execution = run(
            cloud, cloud.start_execution("BackupStateMachine", load_event("backup_run_daily.json"))
        )
        # THEN every backup SUCCEEDED with a validated copy in each DR region
        assert execution["status"] == "SUCCEEDED"
        _assert_backed_up(cloud, fleet)
        # AND each point was validated once, when finished: no poll while it was being made
        points = len(NAMES) * (1 + len(DR_REGIONS))
        assert _invocations(cloud, "ValidateFunction") == points
        assert _invocations(cloud, "SnapshotFunction") == len(NAMES)
        assert _invocations(cloud, "ReplicateFunction") == len(NAMES) * len(DR_REGIONS)
        # AND an RDS event ended each wait; no waiter is left behind
        assert _invocations(cloud, "CompletionEventFunction") == points
        assert _waiters(cloud) == []


def test_a_lost_completion_event_costs_a_timeout_not_the_backup(tmp_path: Path, load_event: Any) -> None:
    # GIVEN snapshots and copies that take a while, and EventBridge losing every event (RDS
    # emits them on a best-effort basis)
    with instance_fleet(tmp_path, *NAMES, time_scale=SCALE) as (cloud, fleet):
        cloud.point_events.times.snapshot_seconds = SNAPSHOT_SECONDS
        cloud.point_events.times.copy_seconds = COPY_SECONDS
        cloud.lambdas.invocations.clear()
        copies_started = cloud.meter.calls[("rds", "CopyDBSnapshot")]
        # WHEN the daily backup runs
        with mock.patch.object(cloud.point_events, "deliver", lambda event: None):
            execution = run(
                cloud, cloud.start_execution("BackupStateMachine", load_event("backup_run_daily.json"))
            )
        # THEN every backup still SUCCEEDED: each wait timed out, its step ran again, found its
        # point finished and resumed itself
        assert execution["status"] == "SUCCEEDED"
        _assert_backed_up(cloud, fleet)
        assert _invocations(cloud, "SnapshotFunction") == 2 * len(NAMES)
        assert _invocations(cloud, "ReplicateFunction") == 2 * len(NAMES) * len(DR_REGIONS)
        assert _invocations(cloud, "CompletionEventFunction") == 0
        # AND a copy step run again looked at its copy: it did not start it a second time
        assert cloud.meter.calls[("rds", "CopyDBSnapshot")] - copies_started == len(NAMES) * len(DR_REGIONS)
        assert _waiters(cloud) == []
