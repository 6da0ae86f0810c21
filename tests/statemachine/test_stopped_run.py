"""A backup run stopped mid-way hands its copies' slots back at once (issue 19).

A copy holds its destination region's copy-gate slot until its validation or its recorded
failure frees it. A run an operator stops (or that times out or fails) does neither: before,
its slots stayed taken until their 3-hour leases ended, and the next run's copies waited for
them. Step Functions' "Execution Status Change" event now frees them (service/run_stopped.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lifeboat.state import copy_gate

from .backup_support import DR_REGIONS, instance_fleet

NAMES = ("orders-db", "payments-db", "customers-db")
# An hour takes 0.36 s: copies of 12 hours hold their slots for about 4 s.
SCALE = 0.0001
COPY_SECONDS = 12 * 3600
GATES = [copy_gate.gate_id(region, "rds_instance") for region in DR_REGIONS]


def _in_gate(state: copy_gate.GateState) -> int:
    """Copies holding a slot or waiting in line."""
    return len(state.holders) + state.waiting


def _holders(cloud: Any) -> dict[str, set[str]]:
    return {gate: set(copy_gate.read(cloud.store(), gate).holders) for gate in GATES}


def test_a_stopped_runs_copy_slots_return_at_once_and_its_copies_say_why(
    tmp_path: Path, load_event: Any
) -> None:
    # GIVEN a daily run of 3 instances whose account allows 1 copy at a time per region, and
    # copies that take hours: in each region one of the run's copies holds the slot and the
    # other two wait in line
    with instance_fleet(tmp_path, *NAMES, time_scale=SCALE) as (cloud, fleet):
        cloud.put_config({**fleet.config, "copyQuotas": {"rds_instance": 1}})
        cloud.point_events.times.copy_seconds = COPY_SECONDS
        execution = cloud.start_execution("BackupStateMachine", load_event("backup_run_daily.json"))
        store = cloud.store()
        deadline = time.monotonic() + 60
        while any(_in_gate(copy_gate.read(store, gate)) < len(NAMES) for gate in GATES):
            assert time.monotonic() < deadline, "the copies did not all reach their gates"
            time.sleep(0.05)
        held = set().union(*_holders(cloud).values())
        # WHEN an operator stops the run
        cloud.client("stepfunctions").stop_execution(executionArn=execution, cause="operator stop")
        assert cloud.wait(execution)["status"] == "ABORTED"
        # THEN within seconds no slot is held any more and nobody waits (was: held until the
        # 3-hour lease ended)
        deadline = time.monotonic() + 30
        while any(_holders(cloud).values()) or any(copy_gate.read(store, g).waiting for g in GATES):
            assert time.monotonic() < deadline, {g: copy_gate.read(store, g) for g in GATES}
            time.sleep(0.1)
        # AND each copy that held one is recorded FAILED, saying its run was stopped
        for holder in held:
            copy = store.get(holder)
            assert copy is not None and (copy.status.value, copy.error) == ("FAILED", "RunStopped"), holder
            assert copy.cause is not None and "ended ABORTED" in copy.cause
