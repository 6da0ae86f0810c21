"""Per-resource circuit breakers: a database whose backup failed N runs in a row stops paging
every schedule.

One item per failing resource (``resource-breaker:<arn>``): consecutive failed runs (each run
counted once, however often its record step is retried), the first and latest failure, the last
error. At the policy's threshold it turns ``OPEN`` (``RESOURCE_BREAKER#OPEN`` in
``byTypeStatus``: one query tells the plan and the health check which resources are open); a
backup that succeeds (or is PARTIAL: its source point is valid) deletes it, and so does an
operator (``lifeboat backup reset``). Only runs that carry a count delete: a healthy resource's
backup costs no extra state-table call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.state.store import BY_TYPE_STATUS_INDEX, StateStore, from_item, to_item

__all__ = ["ResourceBreaker", "close", "count_failure", "failing_resources", "open_circuits"]

BREAKER_TYPE = "RESOURCE_BREAKER"
COUNTING, OPEN = "COUNTING", "OPEN"
# A breaker of a resource nobody backs up any more (untagged, deleted) disappears after 90 days.
_RETAIN = timedelta(days=90)


@dataclass(frozen=True)
class ResourceBreaker:
    resource_arn: str
    failures: int  # failed runs in a row
    status: str  # COUNTING or OPEN
    first_failure_at: datetime
    last_failure_at: datetime
    error: str
    cause: str

    @property
    def open(self) -> bool:
        return self.status == OPEN

    def describe(self) -> str:
        return (
            f"{self.failures} failed backups in a row since {self.first_failure_at:%Y-%m-%d %H:%M}Z "
            f"(last: {self.error}: {self.cause})"
        )


def _key(resource_arn: str) -> dict[str, Any]:
    return {"operationId": {"S": f"resource-breaker:{resource_arn}"}}


def _breaker(item: dict[str, Any]) -> ResourceBreaker:
    return ResourceBreaker(
        resource_arn=str(item["resourceArn"]),
        failures=int(item.get("failures", 1)),
        status=str(item.get("status", COUNTING)),
        first_failure_at=datetime.fromisoformat(str(item["firstFailureAt"])),
        last_failure_at=datetime.fromisoformat(str(item["lastFailureAt"])),
        error=str(item.get("error", "")),
        cause=str(item.get("cause", "")),
    )


def count_failure(
    store: StateStore,
    resource_arn: str,
    *,
    run_id: str,
    now: datetime,
    error: str,
    cause: str | None,
    open_after: int | None,
) -> ResourceBreaker:
    """One more failed run (a retried record step of the same run counts once); OPEN from the
    ``open_after``-th in a row (never when the policy sets none)."""
    values = {
        ":type": BREAKER_TYPE,
        ":counting": COUNTING,
        ":counting_ts": f"{BREAKER_TYPE}#{COUNTING}",
        ":arn": resource_arn,
        ":now": now.isoformat(),
        ":error": error[:200],
        ":cause": (cause or "")[:500],
        ":runId": run_id,
        ":one": 1,
        ":zero": 0,
        ":expiresAt": int((now + _RETAIN).timestamp()),
    }
    try:
        with translated({}, f"counting a failed backup of {resource_arn}"):
            updated = store.client.update_item(
                TableName=store.table_name,
                Key=_key(resource_arn),
                UpdateExpression=(
                    "SET #type = :type, #status = if_not_exists(#status, :counting), "
                    "typeStatus = if_not_exists(typeStatus, :counting_ts), resourceArn = :arn, "
                    "firstFailureAt = if_not_exists(firstFailureAt, :now), lastFailureAt = :now, "
                    "updatedAt = :now, #error = :error, cause = :cause, lastRunId = :runId, "
                    "failures = if_not_exists(failures, :zero) + :one, expiresAt = :expiresAt"
                ),
                ConditionExpression="attribute_not_exists(lastRunId) OR lastRunId <> :runId",
                ExpressionAttributeNames={"#type": "type", "#status": "status", "#error": "error"},
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        breaker = _breaker(from_item(updated["Attributes"]))
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        current = _get(store, resource_arn)
        assert current is not None, "a breaker counted by this run cannot have vanished"
        breaker = current
    if open_after is not None and breaker.failures >= open_after and not breaker.open:
        breaker = _open(store, resource_arn)
    return breaker


def _open(store: StateStore, resource_arn: str) -> ResourceBreaker:
    with translated({}, f"opening the breaker of {resource_arn}"):
        updated = store.client.update_item(
            TableName=store.table_name,
            Key=_key(resource_arn),
            UpdateExpression="SET #status = :open, typeStatus = :open_ts",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":open": OPEN, ":open_ts": f"{BREAKER_TYPE}#{OPEN}"}),
            ReturnValues="ALL_NEW",
        )
    return _breaker(from_item(updated["Attributes"]))


def _get(store: StateStore, resource_arn: str) -> ResourceBreaker | None:
    with translated({}, f"reading the breaker of {resource_arn}"):
        found = store.client.get_item(TableName=store.table_name, Key=_key(resource_arn), ConsistentRead=True)
    return _breaker(from_item(found["Item"])) if "Item" in found else None


def close(store: StateStore, resource_arn: str) -> None:
    """A backup of the resource worked (or an operator reset it): count from zero again."""
    with translated({}, f"closing the breaker of {resource_arn}"):
        store.client.delete_item(TableName=store.table_name, Key=_key(resource_arn))


def failing_resources(store: StateStore) -> dict[str, ResourceBreaker]:
    """Every resource with failed runs in a row, open or still counting (two index queries, one
    per status, whatever the fleet size): what the plan needs."""
    return _with_status(store, COUNTING) | _with_status(store, OPEN)


def open_circuits(store: StateStore) -> dict[str, ResourceBreaker]:
    """Resources whose circuit is open (one index query): what the health check reports."""
    return _with_status(store, OPEN)


def _with_status(store: StateStore, status: str) -> dict[str, ResourceBreaker]:
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "IndexName": BY_TYPE_STATUS_INDEX,
        "KeyConditionExpression": "typeStatus = :v",
        "ExpressionAttributeValues": {":v": {"S": f"{BREAKER_TYPE}#{status}"}},
    }
    breakers = (
        _breaker(i) for i in store.query_pages(request, f"querying {status.lower()} resource breakers")
    )
    return {b.resource_arn: b for b in breakers}
