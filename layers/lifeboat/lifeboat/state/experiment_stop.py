"""The emergency stop of failover experiments: one state-table item, ``experiment-stop``, saying
when an operator stopped them all (``lifeboat experiment stop --all``).

An experiment started before that time sees it at its next step and stops (rolled back where a
rollback exists) instead of being killed mid-fault; one started after runs as usual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.state.store import StateStore, from_item, to_item

_KEY = {"operationId": {"S": "experiment-stop"}}


def request_stop(store: StateStore, *, at: datetime, by: str) -> None:
    item = {"operationId": "experiment-stop", "stoppedAt": at.isoformat(), "stoppedBy": by}
    with translated({}, "recording the experiments' emergency stop"):
        store.client.put_item(TableName=store.table_name, Item=to_item(item))


def stopped_at(store: StateStore) -> datetime | None:
    """When the newest emergency stop was asked, None when never."""
    with translated({}, "reading the experiments' emergency stop"):
        found: dict[str, Any] = store.client.get_item(
            TableName=store.table_name, Key=_KEY, ConsistentRead=True
        )
    if "Item" not in found:
        return None
    return datetime.fromisoformat(str(from_item(found["Item"])["stoppedAt"]))
