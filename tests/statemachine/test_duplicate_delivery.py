"""EventBridge delivers at least once: the same schedule delivered twice makes one backup, not two."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.local.runtime import LocalCloud

from .backup_support import (
    DR_REGIONS,
    SCHEDULED_AT,
    SOURCE,
    backup_of,
    copy_of,
    instance_fleet,
    point_of,
    run,
    snapshot_counts,
)

FLEET = ("orders-db", "customers-db", "inventory-db")


def test_the_same_schedule_delivered_twice_makes_one_backup(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, *FLEET) as (cloud, fleet):
        # GIVEN the daily schedule of 03:00 was delivered and its run finished
        first = run(cloud, cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT))
        counts = snapshot_counts(cloud)
        recorded = {arn: backup_of(cloud, arn) for arn in fleet.instances.values()}
        # WHEN EventBridge delivers the same event again
        second = run(cloud, cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT))
        # THEN both runs SUCCEEDED as the same run id
        assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
        assert first["output"]["runId"] == second["output"]["runId"] == "daily-20261122T0300Z"
        # AND no region has a snapshot more than after the first run
        assert counts == {SOURCE: 3, "us-west-2": 3, "eu-west-1": 2}
        assert snapshot_counts(cloud) == counts
        # AND every backup is still SUCCEEDED, its record untouched: one SUCCEEDED in its history
        for arn, before in recorded.items():
            after = backup_of(cloud, arn)
            assert after == before
            assert [c.status.value for c in after.history].count("SUCCEEDED") == 1
        # AND nobody was notified
        assert cloud.notifications() == []


def _overlapping_deliveries(cloud: LocalCloud) -> Callable[..., Any]:
    """Make two runs of one backup interleave the worst way, deterministically:

    both preflights pass before the first run records SUCCEEDED, and the second run's snapshot
    step starts only after that. (A real duplicate delivery seconds apart can do exactly this.)
    """
    original = cloud.lambdas.invoke
    both_preflights_done, first_recorded = threading.Event(), threading.Event()
    lock = threading.Lock()
    calls: dict[str, int] = {}

    def invoke(arn: str, event: Any) -> tuple[dict[str, Any], bool]:
        function = arn.rsplit("-", 1)[-1]
        with lock:
            calls[function] = calls.get(function, 0) + 1
            nth = calls[function]
        if function == "SnapshotFunction" and nth == 2:
            first_recorded.wait(timeout=30)
        if function == "UpdateStateFunction":
            both_preflights_done.wait(timeout=30)
        result = original(arn, event)
        if function == "HealthCheckFunction" and nth == 2:
            both_preflights_done.set()
        if function == "UpdateStateFunction" and nth == 1:
            first_recorded.set()
        return result

    return invoke


def test_two_overlapping_deliveries_make_one_backup_and_no_false_alarm(tmp_path: Path) -> None:
    """Regression: the second run's snapshot step used to raise IllegalStatusTransition (SUCCEEDED ->
    RUNNING), RecordFailure then raised it too, and the operator got "backup FAILED and could not be
    recorded" for a backup that had succeeded."""
    with instance_fleet(tmp_path, "customers-db") as (cloud, fleet):
        arn = fleet.instances["customers-db"]
        # GIVEN two deliveries of the same schedule whose runs overlap
        with mock.patch.object(cloud.lambdas, "invoke", _overlapping_deliveries(cloud)):
            first = cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT)
            second = cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT)
            # WHEN both finish
            statuses = (run(cloud, first)["status"], run(cloud, second)["status"])
        # THEN one backup exists, SUCCEEDED, with one copy per DR region
        assert statuses == ("SUCCEEDED", "SUCCEEDED")
        backup = backup_of(cloud, arn)
        assert [c.status.value for c in backup.history] == ["PENDING", "RUNNING", "SUCCEEDED"]
        assert snapshot_counts(cloud) == {SOURCE: 1, **dict.fromkeys(DR_REGIONS, 1)}
        for region in DR_REGIONS:
            copy = copy_of(cloud, arn, region)
            assert copy is not None
            assert copy.status.value == "SUCCEEDED"
        # AND the operator is not told that a successful backup failed
        messages = cloud.notifications()
        assert messages == [], [m["Subject"] for m in messages]
        assert point_of(arn) == backup.recovery_point_id
