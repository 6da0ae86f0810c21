"""Backup runs that ended before their copies did, one item each (``stopped-run:<run id>``).

A run's children stop after the run itself, so a copy step already running may still take a
copy slot once the run's slots were handed back; the slot's hand-off then meets a token that
Step Functions answers as timed out, which for a live copy means "keep the slot". This record
tells the two apart: a copy of a stopped run gives its slot on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.state.store import StateStore

__all__ = ["mark", "stopped"]

# Long past any straggler of the run; the table's TTL removes the record.
_RETAIN = timedelta(days=3)


def _key(run: str) -> dict[str, Any]:
    return {"operationId": {"S": f"stopped-run:{run}"}}


def mark(store: StateStore, run: str, *, now: datetime, status: str) -> None:
    """Record that ``run`` ended ``status`` (ABORTED, TIMED_OUT, FAILED)."""
    item = _key(run) | {
        "status": {"S": status},
        "stoppedAt": {"S": now.isoformat()},
        "expiresAt": {"N": str(int((now + _RETAIN).timestamp()))},
    }
    with translated({}, f"recording that run {run} stopped"):
        store.client.put_item(TableName=store.table_name, Item=item)


def stopped(store: StateStore, run: str) -> bool:
    with translated({}, f"reading whether run {run} stopped"):
        found = store.client.get_item(TableName=store.table_name, Key=_key(run), ConsistentRead=True)
    return "Item" in found
