"""A drill run's plan and results at fleet size (issue 19): they pass through the stack's bucket.

Inline, the drill plan cost about 110 bytes per resource (the weekly drill of about 2,300
resources failed at its first step on Step Functions' 256 KiB limit) and the Map collected every
drill's outcome into the run's output. The plan step now writes the drills as the Distributed
Map's items, the Map writes the outcomes with ResultWriter, and the payload carries counts and
locations: its largest state is the same for 10 drills as for 40.

The instances have no recovery point yet, so each drill ends at its plan (FAILED: nothing to
restore), which keeps the run to the plan, the Map and the results.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifeboat.local.runtime import LocalCloud

from .backup_support import largest_payload, run, tagged_instance

CONFIG = {
    "policies": {
        "fleet": {
            "environment": "staging",
            "drRegions": [{"region": "us-west-2"}],
            "drill": {"enabled": True},
        }
    }
}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        local.put_config(CONFIG)
        yield local


def _instances(cloud: LocalCloud, first: int, count: int) -> list[str]:
    rds = cloud.client("rds")
    return [tagged_instance(rds, index, "fleet") for index in range(first, first + count)]


def _drill_everything(cloud: LocalCloud) -> tuple[dict[str, object], int]:
    execution = cloud.start_execution("DrillStateMachine", {"trigger": "schedule"})
    described = run(cloud, execution)
    assert described["status"] == "SUCCEEDED", described
    return described, largest_payload(cloud, execution)


def test_a_drill_runs_plan_and_results_stay_out_of_its_payload(cloud: LocalCloud) -> None:
    # GIVEN 10 protected instances whose policy drills them, none backed up yet
    arns = _instances(cloud, 0, 10)
    # WHEN the weekly drill runs THEN each of the 10 has its outcome, read from the bucket
    small, small_payload = _drill_everything(cloud)
    output = small["output"]
    assert isinstance(output, dict)
    assert sorted(r["resourceArn"] for r in output["results"]) == sorted(arns)
    assert {r["status"] for r in output["results"]} == {"FAILED"}
    # GIVEN 30 more WHEN it runs again THEN all 40 outcomes are there
    arns += _instances(cloud, 10, 30)
    large, large_payload = _drill_everything(cloud)
    output = large["output"]
    assert isinstance(output, dict)
    assert output["drillCount"] == 40
    assert sorted(r["resourceArn"] for r in output["results"]) == sorted(arns)
    # AND the largest state payload did not grow with the number of drills (inline, 30 more
    # drills added about 3,300 bytes of plan and as much again of results)
    print(f"largest payload: {small_payload} B with 10 drills, {large_payload} B with 40")
    assert large_payload <= small_payload + 64, (small_payload, large_payload)
    assert large_payload < 4096
