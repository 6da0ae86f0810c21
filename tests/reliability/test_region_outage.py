"""A DR region that is down for a whole daily run never stops backups (issue 20).

Every call to the down region's endpoints fails, as an SDK sees an unreachable region (a
connection error) or as a 503. Before: the preflight resolved every DR region's key before the
snapshot, so every encrypted resource got no recovery point anywhere; the down region's copy had
no operation of its own; the notification said "NO new recovery point".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.operations import Operation
from lifeboat.domain.policy import Tier
from lifeboat.local.faults import FaultPlan
from lifeboat.local.runtime import LocalCloud
from lifeboat.state import breakers

from .audit import DR_REGIONS, SOURCE, Audit, audit, inventory, seed_mixed_fleet

SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
NEXT_DAY = SCHEDULED_AT + timedelta(days=1)


@dataclass
class Outage:
    down: str
    backfill: bool
    cloud: LocalCloud
    fleet: DemoFleet
    execution: dict[str, Any]
    notifications: list[dict[str, Any]]
    rpo: dict[str, Any]
    audit: Audit
    dead_region_calls: int
    breakers_during: dict[str, breakers.Breaker]
    recovery: dict[str, Any]
    breakers_after: dict[str, breakers.Breaker]
    rpo_after: dict[str, Any]

    @property
    def healthy(self) -> str:
        return next(r for r in DR_REGIONS if r != self.down)

    def resources(self) -> list[str]:
        return [
            *self.fleet.instances.values(),
            *self.fleet.clusters.values(),
            *self.fleet.volumes.values(),
            *self.fleet.tables.values(),
        ]

    def backup(self, arn: str) -> Operation:
        operation = self.cloud.store().get(backup_operation_id(_point(arn)))
        assert operation is not None, arn
        return operation

    def copy(self, arn: str, region: str) -> Operation:
        operation = self.cloud.store().get(copy_operation_id(_point(arn), region))
        assert operation is not None, f"no copy operation of {arn} in {region}"
        return operation


def _point(arn: str) -> str:
    return recovery_point_id(arn, Tier.DAILY, SCHEDULED_AT)


@pytest.fixture(
    scope="module", params=[("us-west-2", "unreachable", True), ("eu-west-1", "503", False)], ids=str
)
def outage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """GIVEN a mixed encrypted prod fleet (RDS, Aurora, EBS, DynamoDB) WHEN one DR region is down
    for the whole daily run (checked right after it), and is back for the next day's run, with
    the policy backfilling missed copies (us-west-2) or not (eu-west-1)."""
    down, kind, backfill = request.param
    log = tmp_path_factory.mktemp("outage") / "local.log"
    with LocalCloud(time_scale=0.0001, log_file=log) as cloud:
        fleet = seed_mixed_fleet(cloud)
        before = inventory(cloud, fleet)
        plan = FaultPlan(seed=1, error_rate=0.0, down_regions=frozenset({down}), outage=kind)
        with cloud.faults(plan) as injector:
            execution = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT), timeout=300)
        notifications = cloud.notifications()
        rpo = cloud.invoke_function("RpoMonitorFunction", {})
        checked = audit(cloud, fleet, before, notifications)
        during = breakers.open_breakers(cloud.store())
        fleet.config["policies"]["prod"]["backfillMissedCopies"] = backfill
        cloud.put_config(fleet.config)
        recovery = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", NEXT_DAY), timeout=300)
        yield Outage(
            down,
            backfill,
            cloud,
            fleet,
            execution,
            notifications,
            rpo,
            checked,
            injector.injected["region-down"],
            during,
            recovery,
            breakers.open_breakers(cloud.store()),
            cloud.invoke_function("RpoMonitorFunction", {}),
        )


def test_every_resource_has_its_source_point_and_its_healthy_region_copy(outage: Outage) -> None:
    # THEN the run completes, and every resource's source point is taken and validated, and its
    # copy in the healthy DR region SUCCEEDED under that region's key
    assert outage.execution["status"] == "SUCCEEDED"
    for arn in outage.resources():
        backup = outage.backup(arn)
        assert backup.validated, (arn, backup.status, backup.error, backup.cause)
        healthy = outage.copy(arn, outage.healthy)
        assert healthy.status.value == "SUCCEEDED", (arn, healthy.error, healthy.cause)
        assert healthy.details["kmsKeyId"] == outage.fleet.keys[outage.healthy]


def test_the_down_regions_copy_is_failed_on_its_own_record_and_the_backup_is_partial(outage: Outage) -> None:
    # THEN each resource has one FAILED copy operation in the down region, RegionUnreachable with
    # its cause, and its backup is PARTIAL naming that region (not FAILED as a whole)
    for arn in outage.resources():
        copy = outage.copy(arn, outage.down)
        assert (copy.status.value, copy.error) == ("FAILED", "RegionUnreachable"), (arn, copy.cause)
        assert copy.cause is not None and f"{outage.down} unreachable since" in copy.cause
        backup = outage.backup(arn)
        assert (backup.status.value, backup.error) == ("PARTIAL", "CopiesMissing")
        assert backup.cause is not None and backup.cause.startswith(f"copy to {outage.down} failed: ")


def test_the_breaker_opens_for_the_run_and_closes_when_the_region_is_back(outage: Outage) -> None:
    # THEN during the outage the down region's breaker is open, naming why, and no resource cost
    # more than one SDK retry chain of the copy steps on the dead region (3 attempts, and an EBS
    # copy's single-attempt CopySnapshot before it; without the breaker the workflow retried
    # each copy step 6 times more: bench/region_outage.py --without-breaker, 105 calls vs 9)
    assert set(outage.breakers_during) == {outage.down}
    assert outage.breakers_during[outage.down].failures >= 1
    assert 0 < outage.dead_region_calls <= 4 * len(outage.resources())
    # AND the next day's run probes the region, copies there, and closes the breaker
    assert outage.recovery["status"] == "SUCCEEDED"
    assert outage.breakers_after == {}
    for arn in outage.resources():
        copy = outage.cloud.store().get(
            copy_operation_id(recovery_point_id(arn, Tier.DAILY, NEXT_DAY), outage.down)
        )
        assert copy is not None and copy.status.value == "SUCCEEDED", arn


def test_the_missed_point_is_caught_up_when_the_policy_backfills_else_recorded_as_skipped(
    outage: Outage,
) -> None:
    for arn in outage.resources():
        point = _point(arn)
        failed = outage.copy(arn, outage.down)
        caught_up = outage.cloud.store().get(copy_operation_id(point, outage.down, catch_up=True))
        if outage.backfill:
            # THEN the next run copied the missed point there too, under the region's key, on a
            # record of its own; the failed copy keeps its cause
            assert caught_up is not None and caught_up.status.value == "SUCCEEDED", (arn, caught_up)
            assert caught_up.validated and caught_up.details["kmsKeyId"] == outage.fleet.keys[outage.down]
            assert failed.status.value == "FAILED" and failed.error == "RegionUnreachable"
        else:
            # THEN it was not copied, and its backup says so (once), naming the newer point
            assert caught_up is None
            note = outage.backup(arn).details[f"catchUpSkipped_{outage.down}"]
            assert note.startswith(
                f"not copied to {outage.down}: missed there, and backfillMissedCopies is off"
            )


def test_the_notifications_say_where_the_new_point_is(outage: Outage) -> None:
    # THEN one PARTIAL notification per resource names the regions holding the new point and the
    # missing one; none says "NO new recovery point"
    subjects = sorted(n["Subject"] for n in outage.notifications)
    assert len(subjects) == len(outage.resources())
    assert all("PARTIAL" in s and f"no copy in {outage.down}" in s for s in subjects), subjects
    for notification in outage.notifications:
        message = notification["Message"]
        assert f"made a new recovery point in {SOURCE} and {outage.healthy}" in message
        assert f"The copy to {outage.down} failed: RegionUnreachable: " in message
        assert "NO new recovery point" not in message


def test_the_rpo_is_ok_where_the_point_is_and_breached_only_in_the_down_region(outage: Outage) -> None:
    # THEN right after the run, the source and the healthy DR region are within the RPO; the
    # down region is not (it never had a point)
    for resource in outage.rpo["resources"]:
        status = {r["region"]: r["status"] for r in resource["regions"]}
        assert status == {SOURCE: "OK", outage.healthy: "OK", outage.down: "BREACH"}, resource["resourceArn"]
    # AND after the next day's run every region is within the RPO again, and none is flagged
    for resource in outage.rpo_after["resources"]:
        assert {r["status"] for r in resource["regions"]} == {"OK"}, resource["resourceArn"]
    assert outage.rpo_after["unreachableRegions"] == {}
    # AND during the outage the down region was flagged at once as unreachable, since when and why
    [(region, why)] = outage.rpo["unreachableRegions"].items()
    assert region == outage.down and why.startswith("unreachable since 20") and outage.down in why
    # AND the monitor did not call the down region for its snapshot quota (its breaker is open);
    # once the region is back, it is read again
    assert {q["region"] for q in outage.rpo["snapshotQuotas"]} == {SOURCE, outage.healthy}
    assert {q["region"] for q in outage.rpo_after["snapshotQuotas"]} == {SOURCE, outage.healthy, outage.down}


def test_nothing_is_lost_duplicated_orphaned_or_stuck(outage: Outage) -> None:
    assert outage.audit.clean, outage.audit
    assert (outage.audit.resources, outage.audit.partial, outage.audit.failed) == (5, 5, 0)
