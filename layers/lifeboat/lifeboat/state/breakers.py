"""Per-region circuit breakers in the state table, shared by every execution of a cycle.

One item per region (``region-breaker:<region>``) while the region is failing: when its first
failure was seen, the latest, why, how many. ``REGION_BREAKER#OPEN`` in ``byTypeStatus`` makes
"which regions are down" one query for the health check. Closing deletes the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.state.store import BY_TYPE_STATUS_INDEX, StateStore, from_item, to_item

__all__ = ["TRIP_AFTER", "Breaker", "close", "get", "open_breakers", "trip"]

BREAKER_TYPE = "REGION_BREAKER"
_OPEN = f"{BREAKER_TYPE}#OPEN"
# Outage-like failures in a row before a region counts as down: one escaped 503 or connection
# error is retried by the workflow like any transient error; three are an outage.
TRIP_AFTER = 3
# A breaker nobody closes (the region was removed from every policy) disappears after a week.
_RETAIN = timedelta(days=7)


@dataclass(frozen=True)
class Breaker:
    region: str
    opened_at: datetime
    last_failure_at: datetime
    failures: int
    reason: str
    run_id: str  # the run whose step last found the region failing

    @property
    def tripped(self) -> bool:
        return self.failures >= TRIP_AFTER


def _key(region: str) -> dict[str, Any]:
    return {"operationId": {"S": f"region-breaker:{region}"}}


def _breaker(item: dict[str, Any]) -> Breaker:
    return Breaker(
        region=str(item["region"]),
        opened_at=datetime.fromisoformat(str(item["openedAt"])),
        last_failure_at=datetime.fromisoformat(str(item["lastFailureAt"])),
        failures=int(item.get("failures", 1)),
        reason=str(item.get("reason", "")),
        run_id=str(item.get("runId", "")),
    )


def get(store: StateStore, region: str) -> Breaker | None:
    """The region's open breaker, read consistently (a step that just tripped it is seen)."""
    with translated({}, f"reading the breaker of {region}"):
        found = store.client.get_item(TableName=store.table_name, Key=_key(region), ConsistentRead=True)
    return _breaker(from_item(found["Item"])) if "Item" in found else None


def trip(store: StateStore, region: str, *, now: datetime, reason: str, run_id: str) -> Breaker:
    """Open the breaker, or count one more failure on it (one write, whatever the concurrency)."""
    values = {
        ":type": BREAKER_TYPE,
        ":status": "OPEN",
        ":typeStatus": _OPEN,
        ":region": region,
        ":now": now.isoformat(),
        ":reason": reason[:500],
        ":runId": run_id,
        ":one": 1,
        ":zero": 0,
        ":expiresAt": int((now + _RETAIN).timestamp()),
    }
    with translated({}, f"tripping the breaker of {region}"):
        updated = store.client.update_item(
            TableName=store.table_name,
            Key=_key(region),
            UpdateExpression=(
                "SET #type = :type, #status = :status, typeStatus = :typeStatus, #region = :region, "
                "openedAt = if_not_exists(openedAt, :now), lastFailureAt = :now, updatedAt = :now, "
                "reason = :reason, failures = if_not_exists(failures, :zero) + :one, "
                "expiresAt = :expiresAt, runId = :runId"
            ),
            ExpressionAttributeNames={"#type": "type", "#status": "status", "#region": "region"},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
    return _breaker(from_item(updated["Attributes"]))


def close(store: StateStore, region: str) -> None:
    """A call to the region succeeded: it is reachable again."""
    with translated({}, f"closing the breaker of {region}"):
        store.client.delete_item(TableName=store.table_name, Key=_key(region))


def open_breakers(store: StateStore) -> dict[str, Breaker]:
    """Every region whose breaker is tripped, by region (one paginated index query)."""
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "IndexName": BY_TYPE_STATUS_INDEX,
        "KeyConditionExpression": "typeStatus = :v",
        "ExpressionAttributeValues": {":v": {"S": _OPEN}},
    }
    breakers = [_breaker(item) for item in store.query_pages(request, "querying open region breakers")]
    return {b.region: b for b in breakers if b.tripped}
