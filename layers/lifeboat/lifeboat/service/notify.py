"""Human-readable notifications from the state table's stream.

What is published (one SNS message per event, subject <= 100 characters):

- an RPO breach starts (a resource's health snapshot turns BREACH) and when it ends;
- an operation turns FAILED, for every type whose workflow does not already notify it;
- a drill finishes (SUCCEEDED or FAILED), with its measured RTO, data age and failed checks.

Routine successes are never published. BACKUP and COPY failures are published by the backup
workflow itself (its NotifyFailure state, one message per failed resource, copies included), and
a RESTORE's outcome by the restore workflow, so they are not repeated here.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lifeboat.aws.errors import translated
from lifeboat.contracts.backup import Notification
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import HealthStatus, ResourceHealth, format_minutes
from lifeboat.errors import ConfigError, InvalidInput
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps
from lifeboat.state.health import HEALTH_TYPE
from lifeboat.state.store import from_item

FAILURE_TOPIC_ENV = "FAILURE_TOPIC_ARN"
WORKFLOW_NOTIFIED_TYPES = frozenset({"BACKUP", "COPY", "RESTORE", "FAILOVER"})
DRILL_TYPE = "DRILL"


class StreamBatch(BaseModel):
    """A DynamoDB stream batch as Lambda delivers it; records are read one by one, so one bad
    record fails alone."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    records: list[dict[str, Any]] = Field(alias="Records", min_length=1)


def _image(record: dict[str, Any], which: str) -> dict[str, Any]:
    raw = record["dynamodb"].get(which) or {}
    return from_item(raw)


def notification_for(record: dict[str, Any]) -> Notification | None:
    """The message a stream record deserves, or None. A record that cannot be read is InvalidInput."""
    try:
        if record["eventName"] == "REMOVE":  # TTL expiry or a deletion: nothing happened to report
            return None
        old, new = _image(record, "OldImage"), _image(record, "NewImage")
        kind = new.get("type")
        if kind == HEALTH_TYPE:
            return _health_change(old, new)
        if old.get("status") == new.get("status"):
            return None
        if kind == DRILL_TYPE and new.get("status") in ("SUCCEEDED", "FAILED"):
            return _drill_result(new)
        if new.get("status") == "FAILED" and kind not in WORKFLOW_NOTIFIED_TYPES:
            return _failure(new)
        return None
    except (KeyError, TypeError, AttributeError, ValueError, ValidationError) as exc:
        raise InvalidInput(f"unreadable stream record {record.get('eventID', '?')}: {exc!r}"[:500]) from None


def _subject(text: str) -> str:
    return ("Lifeboat: " + text)[:100]


def _health_change(old: dict[str, Any], new: dict[str, Any]) -> Notification | None:
    health = ResourceHealth.model_validate(new["health"])
    before = old.get("status")
    source_region = ResourceRef.parse(health.resource_arn).region
    target = format_minutes(health.rpo_minutes)
    if health.status is HealthStatus.BREACH and before != HealthStatus.BREACH.value:
        headline = (
            f"RPO BREACH: {health.name} has no valid recovery point within its "
            f"{target} target in {len(health.breached_regions)} region(s)."
        )
        subject = f"RPO BREACH {health.name} ({source_region}, {health.policy})"
    elif health.status is HealthStatus.OK and before == HealthStatus.BREACH.value:
        headline = f"RPO RESTORED: {health.name} is back within its {target} target."
        subject = f"RPO restored {health.name} ({source_region})"
    else:
        return None
    lines = [headline]
    for region in health.regions:
        lines.append(f"  {region.region:<14} {region.role:<6} {region.status.value:<6} {region.describe}")
    if health.last_backup_status:
        last = f"Last backup: {health.last_backup_status.value} at {health.last_backup_at:%Y-%m-%d %H:%M}Z"
        lines.append(last + (f" ({health.last_backup_error})" if health.last_backup_error else ""))
    else:
        lines.append("Last backup: none recorded")
    lines += [
        f"Resource: {health.resource_arn}",
        f"Policy: {health.policy} ({health.environment.value})",
        f"Checked: {health.checked_at:%Y-%m-%d %H:%M}Z",
        f"State table item: {new['operationId']}",
    ]
    return Notification(subject=_subject(subject), message="\n".join(lines))


def _operation_lines(item: dict[str, Any]) -> list[str]:
    lines = [f"Resource: {item.get('resourceArn', '-')}    Region: {item.get('region', '-')}"]
    if item.get("error") or item.get("cause"):
        lines.append(f"Error: {item.get('error') or '-'}")
        lines.append(f"Cause: {item.get('cause') or 'not given'}")
    if item.get("runId") or item.get("recoveryPointId"):
        lines.append(
            f"Run: {item.get('runId') or '-'}    Recovery point: {item.get('recoveryPointId') or '-'}"
        )
    lines.append(f"State table operation: {item['operationId']}")
    return lines


def _name(item: dict[str, Any]) -> str:
    arn = item.get("resourceArn")
    return ResourceRef.parse(arn).name if isinstance(arn, str) else str(item["operationId"])


def _failure(item: dict[str, Any]) -> Notification:
    kind = str(item.get("type", "operation"))
    return Notification(
        subject=_subject(f"{kind.lower()} FAILED for {_name(item)} ({item.get('region', '-')})"),
        message="\n".join(
            [f"The {kind.lower()} operation {item['operationId']} FAILED.", *_operation_lines(item)]
        ),
    )


def _drill_result(item: dict[str, Any]) -> Notification:
    verdict = "PASSED" if item["status"] == "SUCCEEDED" else "FAILED"
    details: dict[str, Any] = item.get("details") or {}
    lines = [f"The restore drill {item['operationId']} {verdict}."]
    if details.get("rtoSeconds") is not None:
        rto = timedelta(seconds=round(details["rtoSeconds"]))
        lines.append(f"Measured RTO (request -> available and checked): {rto}")
    if details.get("dataAgeSeconds") is not None:
        lines.append(f"Data age (RPO) as restored: {timedelta(seconds=round(details['dataAgeSeconds']))}")
    if details.get("failedChecks"):
        lines.append(f"Failed checks: {', '.join(details['failedChecks'])}")
    return Notification(
        subject=_subject(f"drill {verdict} for {_name(item)} ({item.get('region', '-')})"),
        message="\n".join([*lines, *_operation_lines(item)]),
    )


def publish(notification: Notification, deps: Deps) -> None:
    topic = os.environ.get(FAILURE_TOPIC_ENV)
    if not topic:
        raise ConfigError(f"{FAILURE_TOPIC_ENV} is not set")
    with translated({}, f"publishing to {topic}"):
        deps.clients("sns", deps.region).publish(
            TopicArn=topic, Subject=notification.subject, Message=notification.message
        )


def handle_record(record: dict[str, Any], deps: Deps) -> None:
    """Publish what one stream record deserves; raise to report the record as failed."""
    notification = notification_for(record)
    if notification is None:
        return
    publish(notification, deps)
    metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=1)
    logger.info("notification published", extra={"subject": notification.subject})
