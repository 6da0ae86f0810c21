"""Cross-region copy quota (SnapshotQuotaExceeded): scheduled around with back-off, never paged,
until the retry budget is spent; then recorded FAILED and notified."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from .backup_support import (
    DR_REGIONS,
    SOURCE,
    backup_of,
    copy_of,
    instance_fleet,
    manual_snapshots,
    point_of,
    run,
)

REPLICATE = "lifeboat-local-ReplicateFunction"
EventLoader = Callable[..., dict[str, Any]]


@contextmanager
def copy_quota_exhausted(first_attempts: int | None) -> Iterator[Counter[tuple[str, str]]]:
    """RDS refuses each copy with SnapshotQuotaExceeded for its first N attempts (None: always).

    Counts the CopyDBSnapshot attempts per (destination region, snapshot id).
    """
    from moto.rds.exceptions import SnapshotQuotaExceededFault
    from moto.rds.models import RDSBackend

    original: Callable[..., Any] = RDSBackend.copy_db_snapshot
    attempts: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def copy_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        target = kwargs.get("target_db_snapshot_identifier") or args[1]
        with lock:
            attempts[(self.region_name, target)] += 1
            refused = first_attempts is None or attempts[(self.region_name, target)] <= first_attempts
        if refused:
            raise SnapshotQuotaExceededFault()
        return original(self, *args, **kwargs)

    with mock.patch.object(RDSBackend, "copy_db_snapshot", copy_db_snapshot):
        yield attempts


def test_copies_refused_for_quota_are_retried_until_they_land(
    tmp_path: Path, load_event: EventLoader
) -> None:
    # GIVEN two prod instances (one encrypted) and a destination quota that refuses each copy twice
    with (
        instance_fleet(tmp_path, "orders-db", "customers-db") as (cloud, fleet),
        copy_quota_exhausted(2) as attempts,
    ):
        # WHEN the daily backup runs (the input the daily schedule rule produces)
        daily = load_event("backup_run_daily.json")
        execution = run(cloud, cloud.start_execution("BackupStateMachine", daily))
        # THEN the run SUCCEEDED and every copy landed, under its region's key when encrypted
        assert execution["status"] == "SUCCEEDED"
        for name in ("orders-db", "customers-db"):
            arn = fleet.instances[name]
            assert backup_of(cloud, arn).status.value == "SUCCEEDED"
            for region in DR_REGIONS:
                copy = manual_snapshots(cloud, region)[point_of(arn)]
                assert copy["Status"] == "available"
                assert copy.get("KmsKeyId") == (fleet.keys[region] if name == "orders-db" else None)
                operation = copy_of(cloud, arn, region)
                assert operation is not None
                assert operation.status.value == "SUCCEEDED"
        # AND each of the 4 copies took 3 attempts: 2 refused, retried by the state machine, 1 accepted
        assert sorted(attempts.values()) == [3, 3, 3, 3]
        assert cloud.lambdas.invocations[REPLICATE] == 12
        assert cloud.lambdas.errors[REPLICATE] == 8
        # AND a quota refusal is not an incident: nobody was notified
        assert cloud.notifications() == []


def test_a_copy_quota_that_never_frees_up_fails_those_copies_after_the_retry_budget(
    tmp_path: Path, load_event: EventLoader
) -> None:
    # GIVEN a prod instance whose copies are always refused for quota
    quota = copy_quota_exhausted(first_attempts=None)
    with instance_fleet(tmp_path, "orders-db") as (cloud, fleet), quota as attempts:
        arn = fleet.instances["orders-db"]
        # WHEN the daily backup runs (the ~9 h back-off budget takes seconds here)
        execution = run(
            cloud, cloud.start_execution("BackupStateMachine", load_event("backup_run_daily.json"))
        )
        # THEN the run itself completes; each DR copy is FAILED with the quota error and its cause
        assert execution["status"] == "SUCCEEDED"
        for region in DR_REGIONS:
            copy = copy_of(cloud, arn, region)
            assert copy is not None
            assert (copy.status.value, copy.error) == ("FAILED", "SnapshotQuotaExceeded")
            assert copy.cause is not None and f"copy of {point_of(arn)} to" in copy.cause
        # AND the backup is PARTIAL: its validated source point stands, the copies are missing
        backup = backup_of(cloud, arn)
        assert (backup.status.value, backup.error) == ("PARTIAL", "CopiesMissing")
        assert point_of(arn) in manual_snapshots(cloud, SOURCE)
        # AND the copy that exhausted its budget tried 1 + 40 times (the ASL's MaxAttempts)
        assert max(attempts.values()) == 41
        # AND no copy exists, and the operator got one message naming the resource and the regions
        assert all(point_of(arn) not in manual_snapshots(cloud, region) for region in DR_REGIONS)
        (message,) = cloud.notifications()
        assert message["Subject"].startswith("Lifeboat: daily backup PARTIAL for orders-db: no copy in ")
        assert arn in message["Message"]
        assert "failed: SnapshotQuotaExceeded" in message["Message"]
