"""The copy quota gate (issue 19): never more holders than the limit under concurrent copies,
served first come first served, and a slot whose holder died comes back when its lease ends."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import Deps, deps_from_env
from lifeboat.state import copy_gate
from lifeboat.state.copy_gate import LEASE, MISSING_TICKET_GRACE, Ticket

GATE = copy_gate.gate_id("us-west-2", "rds_cluster")
NOW = datetime(2026, 11, 22, 3, 10, tzinfo=UTC)


@pytest.fixture
def deps() -> Iterator[Deps]:
    with LocalCloud():
        yield deps_from_env()


def _holders(deps: Deps) -> set[str]:
    return set(copy_gate.read(deps.store, GATE).holders)


def test_concurrent_copies_never_exceed_the_limit_and_every_one_gets_a_slot(deps: Deps) -> None:
    # GIVEN 40 copies to one region and a gate of 5, arriving and leaving from 8 threads at once
    limit, copies = 5, [f"copy:lb-ledger-{n:02d}:us-west-2" for n in range(40)]
    store, lock = deps.store, threading.Lock()
    inside: set[str] = set()
    waiting: dict[str, threading.Event] = {c: threading.Event() for c in copies}
    most, order = [0], []

    def enter(copy: str) -> None:
        with lock:
            inside.add(copy)
            most[0] = max(most[0], len(inside))
            order.append(copy)
        waiting[copy].set()

    def deliver(tickets: tuple[Ticket, ...]) -> None:
        for ticket in tickets:
            enter(ticket.holder)

    def copy_one(copy: str) -> None:
        admission = copy_gate.acquire(store, GATE, copy, f"token-{copy}", limit=limit, now=NOW)
        deliver(admission.served)
        if admission.granted:
            enter(copy)
        assert waiting[copy].wait(30), f"{copy} never got a slot"
        threading.Event().wait(random.uniform(0, 0.01))
        with lock:
            inside.discard(copy)
        deliver(copy_gate.release(store, GATE, copy, limit=limit, now=NOW))

    # WHEN they all copy
    threads = [threading.Thread(target=copy_one, args=(c,)) for c in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # THEN all 40 got a slot, at most 5 at once, and the gate is empty with nobody waiting
    assert sorted(order) == sorted(copies)
    assert 1 <= most[0] <= limit
    state = copy_gate.read(store, GATE)
    assert state.holders == {} and state.waiting == 0


def test_a_full_gate_serves_its_queue_first_come_first_served(deps: Deps) -> None:
    # GIVEN a gate of 2, full, and three copies that arrive in turn
    store = deps.store
    for holder in ("a", "b"):
        assert copy_gate.acquire(store, GATE, holder, "t", limit=2, now=NOW).granted
    tickets = [copy_gate.acquire(store, GATE, c, f"token-{c}", limit=2, now=NOW) for c in ("c", "d", "e")]
    assert [t.granted for t in tickets] == [False, False, False]
    # WHEN a holder leaves THEN the first in line gets its slot, not a newcomer
    (served,) = copy_gate.release(store, GATE, "a", limit=2, now=NOW)
    assert (served.holder, served.token) == ("c", "token-c")
    assert not copy_gate.acquire(store, GATE, "late", "token-late", limit=2, now=NOW).granted
    assert [t.holder for t in copy_gate.release(store, GATE, "b", limit=2, now=NOW)] == ["d"]
    assert _holders(deps) == {"c", "d"}
    # AND releasing a copy that holds nothing changes nothing (a retried release)
    assert copy_gate.release(store, GATE, "a", limit=2, now=NOW) == ()
    assert _holders(deps) == {"c", "d"}


def test_the_slot_of_a_holder_that_died_returns_when_its_lease_ends(deps: Deps) -> None:
    # GIVEN a gate of 1 held by a copy whose execution died, and a copy waiting behind it
    store = deps.store
    assert copy_gate.acquire(store, GATE, "dead", "t", limit=1, now=NOW).granted
    assert not copy_gate.acquire(store, GATE, "next", "token-next", limit=1, now=NOW).granted
    # WHEN nothing renews the lease and another copy reaches the gate before it ends THEN
    # nothing moves: the newcomer queues too
    early = copy_gate.acquire(store, GATE, "early", "t", limit=1, now=NOW + LEASE - timedelta(seconds=1))
    assert (early.granted, early.served) == (False, ())
    # WHEN a copy reaches the gate after it ends THEN the first in line gets the slot, not it
    late = copy_gate.acquire(store, GATE, "late", "t", limit=1, now=NOW + LEASE)
    assert not late.granted
    assert [t.holder for t in late.served] == ["next"]
    assert _holders(deps) == {"next"}


def test_a_running_copy_renews_its_lease_and_keeps_its_slot(deps: Deps) -> None:
    store = deps.store
    assert copy_gate.acquire(store, GATE, "slow", "t", limit=1, now=NOW).granted
    # GIVEN the copy renews its lease while it polls
    assert copy_gate.renew(store, GATE, "slow", now=NOW + LEASE - timedelta(minutes=1))
    # WHEN another copy arrives after the first lease would have ended THEN it waits
    assert not copy_gate.acquire(store, GATE, "other", "t2", limit=1, now=NOW + LEASE).granted
    assert _holders(deps) == {"slow"}


def test_a_ticket_whose_writer_died_is_skipped_after_a_grace(deps: Deps) -> None:
    # GIVEN a gate of 1, full, with a ticket number taken but its item never written
    store = deps.store
    assert copy_gate.acquire(store, GATE, "a", "t", limit=1, now=NOW).granted
    assert copy_gate._take_ticket(store, GATE, 1) == 0
    assert not copy_gate.acquire(store, GATE, "b", "token-b", limit=1, now=NOW).granted
    # WHEN the holder leaves THEN the slot stays free for the missing ticket's writer
    assert copy_gate.release(store, GATE, "a", limit=1, now=NOW) == ()
    assert _holders(deps) == set()
    # WHEN a copy reaches the gate after the grace THEN the next ticket is served, not it
    late = copy_gate.acquire(store, GATE, "late", "t", limit=1, now=NOW + MISSING_TICKET_GRACE)
    assert not late.granted
    assert [t.holder for t in late.served] == ["b"]


def test_a_copy_whose_wait_timed_out_keeps_its_place_with_its_new_token(deps: Deps) -> None:
    # GIVEN a full gate of 1 and two copies waiting in line
    store = deps.store
    assert copy_gate.acquire(store, GATE, "a", "t", limit=1, now=NOW).granted
    assert not copy_gate.acquire(store, GATE, "first", "token-1", limit=1, now=NOW).granted
    assert not copy_gate.acquire(store, GATE, "second", "token-2", limit=1, now=NOW).granted
    # WHEN the first one's wait times out and it asks again (a new task token)
    later = NOW + timedelta(hours=1)
    again = copy_gate.acquire(store, GATE, "first", "token-1-again", limit=1, now=later, again=True)
    # THEN it is still first in line, and the slot wakes its new token
    assert not again.granted and again.ticket == 0
    (served,) = copy_gate.release(store, GATE, "a", limit=1, now=later)
    assert (served.holder, served.token) == ("first", "token-1-again")


def test_a_copy_whose_served_ticket_was_left_behind_does_not_wait_on_it(deps: Deps) -> None:
    # GIVEN a gate of 1: "a" inside, "b" waiting; "a" leaves and "b" is served, but the served
    # ticket's item is left behind (its deletion failed after the gate's update)
    store = deps.store
    assert copy_gate.acquire(store, GATE, "a", "t", limit=1, now=NOW).granted
    assert not copy_gate.acquire(store, GATE, "b", "token-b", limit=1, now=NOW).granted
    with mock.patch.object(store.client, "delete_item", side_effect=ClientError({"Error": {}}, "DeleteItem")):
        (served,) = copy_gate.release(store, GATE, "a", limit=1, now=NOW)
    assert served.holder == "b"
    # AND "b" leaves, "c" takes the slot, "d" waits behind it
    copy_gate.release(store, GATE, "b", limit=1, now=NOW)
    assert copy_gate.acquire(store, GATE, "c", "t", limit=1, now=NOW).granted
    assert not copy_gate.acquire(store, GATE, "d", "token-d", limit=1, now=NOW).granted
    # WHEN "b" asks again (a retried wait) THEN it does not "rejoin" its old, served ticket: it
    # takes a new place behind "d"
    again = copy_gate.acquire(store, GATE, "b", "token-b2", limit=1, now=NOW, again=True)
    assert not again.granted and again.ticket == 2
    assert [t.holder for t in copy_gate.release(store, GATE, "c", limit=1, now=NOW)] == ["d"]
