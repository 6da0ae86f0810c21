"""The real backup workflow on a mixed fleet while AWS misbehaves (issue 12).

Throttles and 5xx on ~10% of calls, copy-quota refusals, lost responses of mutating calls and
Lambda tasks that time out after their work, from a seeded injector between botocore and the
emulated AWS (lifeboat/local/faults.py). After each run, with faults off: nothing lost, nothing
duplicated, nothing orphaned, nothing stuck, and every failure explained. A longer sweep over 20
seeds is ``python bench/fault_sweep.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.local.runtime import LocalCloud

from .audit import audit, inventory, seed_mixed_fleet, standard_faults

SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
# Hour-long back-off budgets (copy quota, completion waits) take a fraction of a second.
TIME_SCALE = 0.0001


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    with LocalCloud(time_scale=TIME_SCALE, log_file=tmp_path / "local.log") as local:
        yield local, seed_mixed_fleet(local)


@pytest.mark.parametrize("seed", [101, 102])
def test_a_daily_run_under_faults_loses_duplicates_orphans_and_strands_nothing(
    cloud: tuple[LocalCloud, DemoFleet], seed: int
) -> None:
    local, fleet = cloud
    before = inventory(local, fleet)
    # GIVEN faults of every kind, WHEN the daily schedule fires
    with local.faults(standard_faults(seed)) as injector:
        described = local.wait(local.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT), timeout=300)
    # THEN the run ended, faults were really injected, and the audit (faults off) is clean
    assert described["status"] == "SUCCEEDED", described
    assert sum(injector.injected.values()) > 0
    result = audit(local, fleet, before, local.notifications())
    assert result.clean, result
    # AND with these rates every resource got its validated source point: SUCCEEDED with both DR
    # copies, or PARTIAL when a copy's retries ran out (the audit holds that PARTIAL to its
    # error, its cause and its notification); none FAILED
    assert (result.resources, result.succeeded + result.partial, result.failed) == (5, 5, 0), result.counts()


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
def test_the_same_schedule_delivered_three_times_under_faults_makes_one_point_per_region(
    cloud: tuple[LocalCloud, DemoFleet], concurrent: bool
) -> None:
    local, fleet = cloud
    before = inventory(local, fleet)
    # GIVEN faults, WHEN EventBridge delivers the same schedule event three times
    with local.faults(standard_faults(7)):
        if concurrent:
            executions = [local.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT) for _ in range(3)]
            outcomes = [local.wait(e, timeout=300) for e in executions]
        else:
            outcomes = [
                local.wait(local.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT), timeout=300)
                for _ in range(3)
            ]
    # THEN all three runs ended as the same run, and the account holds one point per resource
    # per region: no duplicate, no orphan, nothing stuck
    assert [o["status"] for o in outcomes] == ["SUCCEEDED"] * 3
    assert len({json.loads(o["output"])["runId"] for o in outcomes}) == 1
    result = audit(local, fleet, before, local.notifications())
    assert result.clean, result
    assert (result.resources, result.succeeded + result.partial, result.failed) == (5, 5, 0), result.counts()
