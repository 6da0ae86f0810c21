"""The copy gate in the real backup workflow (issue 19): the children of a run copy through it, no
more at once per region than the quota, and a slot left by a copy whose execution died returns."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.state import copy_gate
from lifeboat.state.copy_gate import LEASE

from .backup_support import DR_REGIONS, backup_of, copy_of, instance_fleet, manual_snapshots, point_of, run

NAMES = ("orders-db", "payments-db", "customers-db")


def test_copies_pass_the_gate_one_at_a_time_and_a_dead_holders_slot_returns(
    tmp_path: Path, load_event: Any
) -> None:
    # GIVEN 3 prod instances, an account whose quota allows 1 concurrent copy per region, and the
    # us-west-2 gate held by a copy whose execution died (its lease ended a minute ago)
    with instance_fleet(tmp_path, *NAMES) as (cloud, fleet):
        cloud.put_config({**fleet.config, "copyQuotas": {"rds_instance": 1}})
        store = cloud.store()
        dead_since = datetime.now(UTC) - LEASE - timedelta(minutes=1)
        west = copy_gate.gate_id("us-west-2", "rds_instance")
        assert copy_gate.acquire(store, west, "copy:lb-gone:us-west-2", "t", limit=1, now=dead_since).granted
        most: dict[str, int] = defaultdict(int)
        lock, read = threading.Lock(), copy_gate.read

        def observed_read(store: Any, gate: str) -> copy_gate.GateState:
            # Every gate decision reads the gate first, the first copy to leave included: a
            # moment with two copies inside would be seen here.
            state = read(store, gate)
            with lock:
                most[gate] = max(most[gate], len(state.holders))
            return state

        # WHEN the daily backup runs
        with mock.patch.object(copy_gate, "read", observed_read):
            execution = run(
                cloud, cloud.start_execution("BackupStateMachine", load_event("backup_run_daily.json"))
            )

        # THEN every backup SUCCEEDED with a validated copy in each DR region
        assert execution["status"] == "SUCCEEDED"
        for name in NAMES:
            arn = fleet.instances[name]
            assert backup_of(cloud, arn).status.value == "SUCCEEDED"
            for region in DR_REGIONS:
                operation = copy_of(cloud, arn, region)
                assert operation is not None and operation.status.value == "SUCCEEDED", (name, region)
                assert manual_snapshots(cloud, region)[point_of(arn)]["Status"] == "available"
        # AND never more than 1 copy per region held a slot; the dead holder's slot was reclaimed
        assert dict(most) == {copy_gate.gate_id(r, "rds_instance"): 1 for r in DR_REGIONS}
        for region in DR_REGIONS:
            state = copy_gate.read(store, copy_gate.gate_id(region, "rds_instance"))
            assert (state.holders, state.waiting) == ({}, 0), region
