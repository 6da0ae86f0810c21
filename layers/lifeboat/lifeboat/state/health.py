"""Health snapshots, alarm-trigger claims and incidents in the state table.

These items share the table with operations but carry no ``resourceArn``, so they stay out of
the ``byResource`` index that backup history is read from. Their ``typeStatus``
(``HEALTH#BREACH``, ``INCIDENT#OPEN``) puts them in ``byTypeStatus``: "which resources are in
breach right now" is one query.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.domain.health import HealthStatus, ResourceHealth
from lifeboat.state.store import BY_TYPE_STATUS_INDEX, StateStore, from_item, to_item

HEALTH_TYPE = "HEALTH"
TRIGGER_TYPE = "ALARM_TRIGGER"
INCIDENT_TYPE = "INCIDENT"
# A snapshot of a resource that is no longer protected disappears a week after its last check.
HEALTH_RETAIN_DAYS = 7
TRIGGER_RETAIN_DAYS = 30
INCIDENT_RETAIN_DAYS = 400


def health_item_id(resource_arn: str) -> str:
    return f"health:{resource_arn}"


def save_health(store: StateStore, health: ResourceHealth, fingerprint: str | None = None) -> None:
    """Overwrite the resource's health item; ``breachedSince`` survives while it stays breached.
    ``fingerprint`` (domain/health_changes.py) lets the next run tell whether it changed."""
    now = health.checked_at
    values: dict[str, Any] = {
        ":fingerprint": fingerprint,
        ":type": HEALTH_TYPE,
        ":status": health.status.value,
        ":typeStatus": f"{HEALTH_TYPE}#{health.status.value}",
        ":updatedAt": now.isoformat(),
        ":expiresAt": int((now + timedelta(days=HEALTH_RETAIN_DAYS)).timestamp()),
        ":subject": health.resource_arn,
        ":policy": health.policy,
        ":health": health.model_dump(mode="json", by_alias=True),
    }
    fields: tuple[str, ...] = (
        "type",
        "status",
        "typeStatus",
        "updatedAt",
        "expiresAt",
        "subject",
        "policy",
        "health",
    )
    if fingerprint is not None:
        fields += ("fingerprint",)
    names = {f"#{name}": "subjectArn" if name == "subject" else name for name in fields}
    names["#breachedSince"] = "breachedSince"
    assignments = [f"#{name} = :{name}" for name in fields]
    if health.status is HealthStatus.BREACH:
        update = "SET " + ", ".join(
            [*assignments, "#breachedSince = if_not_exists(#breachedSince, :updatedAt)"]
        )
    else:
        update = "SET " + ", ".join(assignments) + " REMOVE #breachedSince"
    with translated({}, f"saving health of {health.resource_arn}"):
        store.client.update_item(
            TableName=store.table_name,
            Key={"operationId": {"S": health_item_id(health.resource_arn)}},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )


def saved_fingerprints(store: StateStore) -> dict[str, tuple[str, datetime]]:
    """Per resource, the fingerprint and time of its health item as last written (two paginated
    index queries, whatever the fleet size; items written without one are left out)."""
    saved: dict[str, tuple[str, datetime]] = {}
    for status in HealthStatus:
        request: dict[str, Any] = {
            "TableName": store.table_name,
            "IndexName": BY_TYPE_STATUS_INDEX,
            "KeyConditionExpression": "typeStatus = :v",
            "ExpressionAttributeValues": {":v": {"S": f"{HEALTH_TYPE}#{status.value}"}},
            "ProjectionExpression": "subjectArn, fingerprint, updatedAt",
        }
        for item in store.query_pages(request, f"querying {status.value} health items"):
            if "fingerprint" in item and "subjectArn" in item:
                saved[str(item["subjectArn"])] = (
                    str(item["fingerprint"]),
                    datetime.fromisoformat(str(item["updatedAt"])),
                )
    return saved


def breached(store: StateStore) -> list[ResourceHealth]:
    """Every resource whose latest health snapshot is a breach (one paginated index query)."""
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "IndexName": BY_TYPE_STATUS_INDEX,
        "KeyConditionExpression": "typeStatus = :v",
        "ExpressionAttributeValues": {":v": {"S": f"{HEALTH_TYPE}#{HealthStatus.BREACH.value}"}},
    }
    items = store.query_pages(request, "querying breached resources")
    return [ResourceHealth.model_validate(item["health"]) for item in items]


def claim(store: StateStore, key: str, *, now: datetime, window: timedelta, record: dict[str, Any]) -> bool:
    """Take the ``key`` claim for ``window`` unless someone holds it; True if this call took it.

    One conditional write: of N deliveries of the same alarm inside the window, exactly one
    wins, whatever the concurrency.
    """
    item = {
        "operationId": key,
        "type": TRIGGER_TYPE,
        "claimedAt": now.isoformat(),
        "claimedUntil": int((now + window).timestamp()),
        "expiresAt": int((now + timedelta(days=TRIGGER_RETAIN_DAYS)).timestamp()),
        **record,
    }
    return store.put_new(
        item,
        f"claiming {key}",
        condition="attribute_not_exists(operationId) OR claimedUntil < :now",
        values={":now": int(now.timestamp())},
    )


def read(store: StateStore, key: str) -> dict[str, Any] | None:
    with translated({}, f"reading {key}"):
        found = store.client.get_item(
            TableName=store.table_name, Key={"operationId": {"S": key}}, ConsistentRead=True
        )
    return from_item(found["Item"]) if "Item" in found else None


def record_incident(store: StateStore, key: str, *, now: datetime, record: dict[str, Any]) -> bool:
    """Open an incident once per alarm state change (a redelivered event finds it). True if new."""
    item = {
        "operationId": key,
        "type": INCIDENT_TYPE,
        "status": "OPEN",
        "typeStatus": f"{INCIDENT_TYPE}#OPEN",
        "updatedAt": now.isoformat(),
        "expiresAt": int((now + timedelta(days=INCIDENT_RETAIN_DAYS)).timestamp()),
        **record,
    }
    return store.put_new(item, f"recording incident {key}")
