"""A counting semaphore with a first-come queue in the state table: the copy quota gate.

AWS allows a limited number of concurrent cross-region snapshot copies per destination region
(20 RDS instance snapshots, 5 Aurora cluster snapshots). One gate item per destination region
and resource type (``copy-gate:<region>:<type>``) holds:

- ``holders``: copy operation id -> lease expiry (epoch seconds), renewed while the copy runs;
- ``tail`` (tickets issued) and ``head`` (tickets served or skipped).

A copy that finds no room takes a ticket (item ``copy-gate:<region>:<type>#<n>``) holding its
Step Functions task token and waits. Whoever frees a slot (a finished or failed copy, or anyone
who finds a lease expired because its holder died) hands the slot to the head ticket in the same
conditional write, so the queue is served in order (the served ticket's item is deleted next).
Three conditions, each evaluated by DynamoDB atomically on the gate item, make it correct under
any concurrency:

- a copy enters only while ``size(holders) < limit`` and nobody waits (``head = tail``);
- a ticket is taken only while the gate is full or others wait, so some release will see it;
- a slot is freed without a hand-off only while the queue is unchanged since it was read.

A ticket's item is written just after its number is taken; a release that finds it missing
leaves the slot free, and the ticket's writer settles the gate right after writing it. A ticket
never written (its writer died in between) is skipped after ``MISSING_TICKET_GRACE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.errors import LifeboatError
from lifeboat.observability import logger
from lifeboat.state.conditional_update import ConditionalUpdate
from lifeboat.state.store import StateStore, from_item, to_item

__all__ = ["LEASE", "MISSING_TICKET_GRACE", "Admission", "GateState", "Ticket", "acquire", "read", "release"]

# A holder renews its lease each time its copy step runs: when its wait for the copy's completion
# event times out (every 2 hours) and at each poll of a copy no event announces (at most 30
# minutes apart). A lease not renewed for this long belongs to a copy whose execution died.
LEASE = timedelta(hours=3)
MISSING_TICKET_GRACE = timedelta(minutes=2)
# A ticket nobody serves (its gate was emptied by hand) is deleted by the table's TTL.
_TICKET_RETAIN = timedelta(days=3)
_ATTEMPTS = 200
_CONFLICTS = frozenset({"ConditionalCheckFailedException"})


@dataclass(frozen=True)
class Ticket:
    number: int
    holder: str
    token: str


@dataclass(frozen=True)
class GateState:
    exists: bool = False
    holders: dict[str, int] = field(default_factory=dict)
    head: int = 0
    tail: int = 0
    missing_head: int | None = None
    missing_since: int | None = None

    @property
    def waiting(self) -> int:
        return self.tail - self.head


@dataclass(frozen=True)
class Admission:
    """``granted``: the copy holds a slot now; otherwise it waits on ``ticket``. ``served``: the
    tickets this call handed a slot to (their tokens are to be sent)."""

    granted: bool
    ticket: int | None = None
    served: tuple[Ticket, ...] = ()


def gate_id(region: str, resource_type: str) -> str:
    return f"copy-gate:{region}:{resource_type}"


def _key(operation_id: str) -> dict[str, Any]:
    return {"operationId": {"S": operation_id}}


def _ticket_id(gate: str, number: int) -> str:
    return f"{gate}#{number}"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def read(store: StateStore, gate: str) -> GateState:
    with translated({}, f"reading {gate}"):
        found = store.client.get_item(TableName=store.table_name, Key=_key(gate), ConsistentRead=True)
    if "Item" not in found:
        return GateState()
    item = from_item(found["Item"])
    return GateState(
        exists=True,
        holders={str(k): int(v) for k, v in dict(item.get("holders", {})).items()},
        head=int(item.get("head", 0)),
        tail=int(item.get("tail", 0)),
        missing_head=item.get("missingHead"),
        missing_since=item.get("missingSince"),
    )


def _ticket(store: StateStore, gate: str, number: int) -> Ticket | None:
    with translated({}, f"reading ticket {number} of {gate}"):
        found = store.client.get_item(
            TableName=store.table_name, Key=_key(_ticket_id(gate, number)), ConsistentRead=True
        )
    if "Item" not in found:
        return None
    item = from_item(found["Item"])
    return Ticket(number=number, holder=str(item["holder"]), token=str(item["token"]))


def _create(store: StateStore, gate: str, now: datetime) -> None:
    item = {"operationId": gate, "type": "COPY_GATE", "holders": {}, "head": 0, "tail": 0}
    item["createdAt"] = now.isoformat()
    try:
        with translated({}, f"creating {gate}"):
            store.client.put_item(
                TableName=store.table_name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(operationId)",
            )
    except ClientError as exc:
        if error_code(exc) not in _CONFLICTS:
            raise


def _conflict(exc: ClientError) -> bool:
    return error_code(exc) in _CONFLICTS


def acquire(
    store: StateStore, gate: str, holder: str, token: str, *, limit: int, now: datetime, again: bool = False
) -> Admission:
    """Enter the gate now, or take a ticket and wait; idempotent for a holder already inside.
    ``again``: an earlier wait of this copy ended (its ticket, if still waiting, is kept)."""
    served: list[Ticket] = []
    for _ in range(_ATTEMPTS):
        state = read(store, gate)
        if not state.exists:
            _create(store, gate, now)
            continue
        if holder in state.holders:
            renew(store, gate, holder, now=now)
            return Admission(granted=True, served=tuple(t for t in served if t.holder != holder))
        if _stale(state, now) or (state.waiting and _occupied(state, now) < limit):
            # Reclaim dead leases and serve the queue first: a freed slot belongs to the first
            # in line, not to whoever arrives.
            settled = _settle(store, gate, None, limit=limit, now=now)
            served += settled
            if settled or _stale(state, now):
                continue
        if (
            again
            and state.waiting
            and (waiting := _rejoin(store, gate, holder, token, state.head)) is not None
        ):
            return Admission(granted=False, ticket=waiting, served=tuple(served))
        if len(state.holders) < limit and not state.waiting:
            update = ConditionalUpdate()
            alias = update.name(holder)
            update.sets.append(f"holders.{alias} = {update.value(_epoch(now + LEASE))}")
            update.conditions += [
                f"size(holders) < {update.value(limit)}",
                "head = tail",
                f"attribute_not_exists(holders.{alias})",
            ]
            if _try(store, gate, update):
                return Admission(granted=True, served=tuple(served))
            continue
        ticket = _take_ticket(store, gate, limit)
        if ticket is None:
            continue
        _write_ticket(store, gate, ticket, holder=holder, token=token, now=now)
        served += _settle(store, gate, None, limit=limit, now=now)
        return Admission(
            granted=any(t.number == ticket for t in served),
            ticket=ticket,
            served=tuple(t for t in served if t.number != ticket),
        )
    raise RuntimeError(f"{gate}: no decision after {_ATTEMPTS} attempts under contention")


def _stale(state: GateState, now: datetime) -> bool:
    return any(expiry <= _epoch(now) for expiry in state.holders.values())


def _occupied(state: GateState, now: datetime) -> int:
    return sum(1 for expiry in state.holders.values() if expiry > _epoch(now))


def _try(store: StateStore, gate: str, update: ConditionalUpdate) -> bool:
    try:
        with translated({}, f"updating {gate}"):
            store.client.update_item(**update.request(store, gate))
    except ClientError as exc:
        if _conflict(exc):
            return False
        raise
    return True


def _take_ticket(store: StateStore, gate: str, limit: int) -> int | None:
    """The next ticket number, only while the gate is full or others wait; None: room appeared."""
    try:
        with translated({}, f"taking a ticket of {gate}"):
            updated = store.client.update_item(
                TableName=store.table_name,
                Key=_key(gate),
                UpdateExpression="SET tail = tail + :one",
                ConditionExpression="size(holders) >= :limit OR head < tail",
                ExpressionAttributeValues=to_item({":one": 1, ":limit": limit}),
                ReturnValues="UPDATED_OLD",
            )
    except ClientError as exc:
        if _conflict(exc):
            return None
        raise
    return int(from_item(updated["Attributes"])["tail"])


def _write_ticket(
    store: StateStore, gate: str, number: int, *, holder: str, token: str, now: datetime
) -> None:
    item = {
        "operationId": _ticket_id(gate, number),
        "type": "COPY_GATE_TICKET",
        "holder": holder,
        "token": token,
        "enqueuedAt": now.isoformat(),
        "expiresAt": _epoch(now + _TICKET_RETAIN),
    }
    pointer = {
        "operationId": _pointer_id(gate, holder),
        "type": "COPY_GATE_POINTER",
        "ticket": number,
        "expiresAt": item["expiresAt"],
    }
    with translated({}, f"writing ticket {number} of {gate}"):
        store.client.put_item(TableName=store.table_name, Item=to_item(item))
        store.client.put_item(TableName=store.table_name, Item=to_item(pointer))


def _pointer_id(gate: str, holder: str) -> str:
    return f"{gate}@{holder}"


def _rejoin(store: StateStore, gate: str, holder: str, token: str, head: int) -> int | None:
    """A copy whose earlier wait timed out while its ticket still waits keeps its place: the
    ticket takes the new token. None: it has no ticket waiting."""
    with translated({}, f"reading the ticket of {holder} at {gate}"):
        found = store.client.get_item(
            TableName=store.table_name, Key=_key(_pointer_id(gate, holder)), ConsistentRead=True
        )
    if "Item" not in found:
        return None
    number = int(from_item(found["Item"])["ticket"])
    if number < head:
        return None  # served or skipped already
    try:
        with translated({}, f"refreshing ticket {number} of {gate}"):
            store.client.update_item(
                TableName=store.table_name,
                Key=_key(_ticket_id(gate, number)),
                UpdateExpression="SET #token = :token",
                ConditionExpression="attribute_exists(operationId) AND holder = :holder",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues=to_item({":token": token, ":holder": holder}),
            )
    except ClientError as exc:
        if _conflict(exc):
            return None  # served or skipped meanwhile
        raise
    return number


def renew(store: StateStore, gate: str, holder: str, *, now: datetime) -> bool:
    """Extend a running copy's lease; False when it no longer holds one (reclaimed)."""
    update = ConditionalUpdate()
    alias = update.name(holder)
    update.sets.append(f"holders.{alias} = {update.value(_epoch(now + LEASE))}")
    update.conditions.append(f"attribute_exists(holders.{alias})")
    return _try(store, gate, update)


def release(store: StateStore, gate: str, holder: str, *, limit: int, now: datetime) -> tuple[Ticket, ...]:
    """Free the holder's slot (nothing if it holds none) and serve the queue; returns the tickets
    handed a slot, whose tokens the caller sends."""
    return _settle(store, gate, holder, limit=limit, now=now)


def _settle(
    store: StateStore, gate: str, leaving: str | None, *, limit: int, now: datetime
) -> tuple[Ticket, ...]:
    served: list[Ticket] = []
    for _ in range(_ATTEMPTS):
        state = read(store, gate)
        if leaving is not None and leaving not in state.holders:
            leaving = None
        expired = {h: t for h, t in state.holders.items() if t <= _epoch(now) and h != leaving}
        room = limit - (len(state.holders) - (leaving is not None) - len(expired))
        ticket = _ticket(store, gate, state.head) if state.waiting and room > 0 else None
        # A ticket of a copy inside (or leaving) is a duplicate left by an earlier attempt of
        # its wait: skipped. One whose lease expired re-enters with a fresh lease.
        handed = ticket is not None and (ticket.holder not in state.holders or ticket.holder in expired)
        update = _freeing(state, leaving, expired, keep=ticket.holder if ticket and handed else None)
        if ticket is not None:
            update.sets.append(f"head = {update.value(state.head + 1)}")
            if handed:
                alias = update.names_of(ticket.holder) or update.name(ticket.holder)
                update.sets.append(f"holders.{alias} = {update.value(_epoch(now + LEASE))}")
            if _serve(store, gate, update, ticket.number):
                served += [ticket] if handed else []
                leaving = None
                if state.waiting == 1 or (handed and room == 1):
                    return tuple(served)  # nobody else waits, or no room left: nothing more
            continue
        if state.waiting and room > 0:
            if not _mark_missing_head(update, state, now):
                return tuple(served)
        elif not update.removes:
            return tuple(served)
        else:
            update.conditions.append(f"tail = {update.value(state.tail)}")
        if _try(store, gate, update):
            leaving = None
    raise RuntimeError(f"{gate}: not settled after {_ATTEMPTS} attempts under contention")


def _freeing(
    state: GateState, leaving: str | None, expired: dict[str, int], *, keep: str | None
) -> ConditionalUpdate:
    """An update removing the leaving holder and the expired leases (``keep`` re-enters), valid
    only while the queue's head and those leases are as read."""
    update = ConditionalUpdate()
    update.conditions.append(f"head = {update.value(state.head)}")
    for holder, expiry in expired.items():
        alias = update.name(holder)
        update.conditions.append(f"holders.{alias} = {update.value(expiry)}")
        if holder != keep:
            update.removes.append(f"holders.{alias}")
    if leaving is not None:
        alias = update.name(leaving)
        update.conditions.append(f"attribute_exists(holders.{alias})")
        update.removes.append(f"holders.{alias}")
    return update


def _mark_missing_head(update: ConditionalUpdate, state: GateState, now: datetime) -> bool:
    """The head ticket's item is not written yet: its writer settles the gate right after
    writing it, so the slot stays free for it. One never written (its writer died between the
    two writes) is skipped after a grace. False: nothing to write."""
    if _give_up_on_missing(state, now):
        update.sets.append(f"head = {update.value(state.head + 1)}")
    elif state.missing_head != state.head:
        update.sets += [
            f"missingHead = {update.value(state.head)}",
            f"missingSince = {update.value(_epoch(now))}",
        ]
    return bool(update.sets or update.removes)


def _give_up_on_missing(state: GateState, now: datetime) -> bool:
    if state.missing_head != state.head or state.missing_since is None:
        return False
    return _epoch(now) - state.missing_since >= MISSING_TICKET_GRACE.total_seconds()


def _serve(store: StateStore, gate: str, update: ConditionalUpdate, number: int) -> bool:
    """The gate update that serves (or skips) ticket ``number``, then the ticket's deletion.

    Not one transaction: once ``head`` is past a ticket it is never served again, so a ticket
    left behind (its deletion failed) is only clutter, which the table's TTL removes."""
    if not _try(store, gate, update):
        return False
    try:
        with translated({}, f"deleting ticket {number} of {gate}"):
            store.client.delete_item(TableName=store.table_name, Key=_key(_ticket_id(gate, number)))
    except (ClientError, LifeboatError) as exc:
        logger.warning(
            "copy gate ticket left behind", extra={"gate": gate, "ticket": number, "error": str(exc)}
        )
    return True
