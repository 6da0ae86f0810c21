"""Workflow tasks waiting for a recovery point to finish, in the state table.

One item per point (``wait:<region>:<AWS identifier>``) holds the waiting task's token and the
output to resume it with. A later wait of the same point (its task timed out and ran again)
replaces the token. Taking a waiter deletes it in the same call, so the completion event and the
waiting step itself, racing to resume the task, resume it once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from lifeboat.aws.errors import translated
from lifeboat.state.store import StateStore, from_item, to_item

__all__ = ["Waiter", "register", "take", "waiter_id"]

# A waiter nobody takes (its workflow was stopped) is deleted by the table's TTL.
_RETAIN = timedelta(days=2)


class Waiter(NamedTuple):
    token: str
    output: dict[str, Any]


def waiter_id(region: str, identifier: str) -> str:
    return f"wait:{region}:{identifier}"


def register(
    store: StateStore, region: str, identifier: str, *, token: str, output: dict[str, Any], now: datetime
) -> None:
    item = {
        "operationId": waiter_id(region, identifier),
        "type": "POINT_WAITER",
        "token": token,
        "output": json.dumps(output, separators=(",", ":")),
        "since": now.isoformat(),
        "expiresAt": int((now + _RETAIN).timestamp()),
    }
    with translated({}, f"registering the wait for {identifier} in {region}"):
        store.client.put_item(TableName=store.table_name, Item=to_item(item))


def take(store: StateStore, region: str, identifier: str) -> Waiter | None:
    """The waiter of this point, removed; None when nobody waits (any more)."""
    with translated({}, f"taking the wait for {identifier} in {region}"):
        found = store.client.delete_item(
            TableName=store.table_name,
            Key={"operationId": {"S": waiter_id(region, identifier)}},
            ReturnValues="ALL_OLD",
        )
    if "Attributes" not in found:
        return None
    item = from_item(found["Attributes"])
    return Waiter(str(item["token"]), json.loads(str(item["output"])))
