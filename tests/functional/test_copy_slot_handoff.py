"""A slot handed to a copy whose wait had just timed out stays that copy's (issue 19).

The copy's AcquireCopySlot state runs again at once with a new token; if it finds itself inside
the gate it starts copying. Freeing its slot because the old token's SendTaskSuccess answered
TaskTimedOut would free it under a running copy: one copy more than AWS's quota in flight."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import copy_slots
from lifeboat.service.copy_slots import CopySlot
from lifeboat.service.deps import Deps, deps_from_env
from lifeboat.state import copy_gate, stopped_runs

GATE = copy_gate.gate_id("us-west-2", "rds_cluster")


def _slot(name: str) -> CopySlot:
    return CopySlot(gate=GATE, holder=f"copy:lb-{name}:us-west-2", limit=1)


class Sfn:
    """Step Functions as the gate sees it: tokens in ``timed_out`` belong to waits that ended;
    ``on_send`` runs before a send is answered (what happens meanwhile elsewhere)."""

    def __init__(self, timed_out: set[str], on_send: Any = None) -> None:
        self.timed_out, self.on_send, self.resumed = timed_out, on_send, list[str]()

    def send_task_success(self, taskToken: str, output: str) -> None:
        if self.on_send:
            self.on_send(taskToken)
        if taskToken in self.timed_out:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "timed out"}}, "SendTaskSuccess")
        self.resumed.append(taskToken)


def _answered_by(deps: Deps, sfn: Sfn) -> Any:
    """The gate's Step Functions calls answered by ``sfn``; every other client real."""
    real_clients = deps.clients

    def clients(service: str, region: str) -> Any:
        return sfn if service == "stepfunctions" else real_clients(service, region)

    return mock.patch.object(deps, "clients", clients)


@pytest.fixture
def deps() -> Iterator[Deps]:
    with LocalCloud():
        yield deps_from_env()


def test_a_copy_handed_a_slot_after_its_wait_timed_out_keeps_it(deps: Deps) -> None:
    # GIVEN a gate of 1 held by copy A, and copy X waiting in line with token t1
    a, x = _slot("a"), _slot("x")
    sfn = Sfn(timed_out={"t1"})
    with _answered_by(deps, sfn):
        assert copy_slots.acquire(a, "ta", deps)
        assert not copy_slots.acquire(x, "t1", deps)
        # AND X's wait times out: while A's release hands X the slot and sends t1, X's state runs
        # again with t2, finds itself inside and starts copying
        sfn.on_send = lambda token: token == "t1" and copy_slots.acquire(x, "t2", deps, again=True)
        # WHEN A's copy finishes and releases its slot
        copy_slots.release(a, deps)
    # THEN X holds the slot it copies under (t2 resumed it); t1's TaskTimedOut freed nothing
    assert "t2" in sfn.resumed
    assert set(copy_gate.read(deps.store, GATE).holders) == {x.holder}


def test_a_slot_handed_to_a_copy_of_a_stopped_run_goes_on_to_the_next(deps: Deps) -> None:
    # GIVEN a gate of 1 held by copy A, then copy X of the daily run of 2026-11-22 03:00 and
    # copy Y waiting in line, and that run stopped (Step Functions answers its tokens TaskTimedOut)
    a = _slot("a")
    x = CopySlot(gate=GATE, holder="copy:lb-orders-db-daily-202611220300-6d483cac:us-west-2", limit=1)
    y = _slot("y")
    stopped_runs.mark(deps.store, "daily-20261122T0300Z", now=deps.now(), status="ABORTED")
    sfn = Sfn(timed_out={"tx"})
    with _answered_by(deps, sfn):
        assert copy_slots.acquire(a, "ta", deps)
        assert not copy_slots.acquire(x, "tx", deps)
        assert not copy_slots.acquire(y, "ty", deps)
        # WHEN A's copy finishes and releases its slot
        copy_slots.release(a, deps)
    # THEN X's TaskTimedOut is not a wait that timed out (its run stopped): Y got the slot
    # (was: X kept it until its lease ended, 3 hours)
    assert sfn.resumed == ["ta", "ty"]
    assert set(copy_gate.read(deps.store, GATE).holders) == {y.holder}
