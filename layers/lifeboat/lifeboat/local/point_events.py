"""Recovery points that take time, and the completion events AWS sends when they are done.

moto makes every snapshot and copy available at once and puts no event on EventBridge. Local
mode can make points take a while (``PointTimes``: seconds of its scaled clock for a source
snapshot and for a DR copy, 0 by default): until then a describe reports the point in progress,
as AWS does. When a point is done, local mode builds the event RDS or EC2 would send (a manual
snapshot or cluster snapshot created, a snapshot copy finished; none for an Aurora cluster copy,
as on AWS) and hands it, a moment later and on its own thread as EventBridge does, to each
function whose rule in template.yaml matches it. DR regions' events are delivered too: local
mode stands for a stack whose DR regions all forward their events
(templates/dr-region-events.yaml).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lifeboat.local.eventbridge import envelope

__all__ = ["PointEvents", "PointTimes"]

# EventBridge delivers an event a moment after it happens; locally never less than this (real
# seconds): a point AWS makes takes minutes, so the step that started it has written its waiter
# long before the event; moto's points are done at once, and the waiter's write must come first.
_MIN_DELAY = 0.25


@dataclass
class PointTimes:
    """How long (seconds of the scaled clock) a source snapshot and a DR copy take."""

    snapshot_seconds: float = 0.0
    copy_seconds: float = 0.0


@dataclass(frozen=True)
class _Start:
    """Where a call's answer names the point it started, and the event AWS sends when done."""

    answer: str  # the answer's key holding the point
    identifier: str  # the point's identifier in it
    copy: bool
    event: Callable[[str, str, str, dict[str, Any]], dict[str, Any]] | None  # (account, region, id, point)


def _rds_event(detail_type: str, source_type: str, event_id: str, message: str) -> Any:
    def build(account: str, region: str, identifier: str, point: dict[str, Any]) -> dict[str, Any]:
        arn = point.get("DBSnapshotArn") or point.get("DBClusterSnapshotArn") or ""
        return envelope(
            detail_type,
            "aws.rds",
            account=account,
            region=region,
            resources=[arn],
            detail={
                "EventCategories": ["creation" if event_id != "RDS-EVENT-0060" else "notification"],
                "SourceType": source_type,
                "SourceArn": arn,
                "Date": _stamp(),
                "Message": message,
                "SourceIdentifier": identifier,
                "EventID": event_id,
            },
        )

    return build


def _ebs_event(kind: str) -> Any:
    def build(account: str, region: str, identifier: str, point: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:ec2::{region}:snapshot/{identifier}"
        source = point.get("VolumeId") or point.get("SourceSnapshotId") or ""
        return envelope(
            "EBS Snapshot Notification",
            "aws.ec2",
            account=account,
            region=region,
            resources=[arn],
            detail={
                "event": kind,
                "result": "succeeded",
                "cause": "",
                "request-id": str(uuid.uuid4()),
                "snapshot_id": arn,
                "source": source,
                "startTime": _stamp(),
                "endTime": _stamp(),
            },
        )

    return build


_STARTS: dict[str, _Start] = {
    "rds.CreateDBSnapshot": _Start(
        "DBSnapshot",
        "DBSnapshotIdentifier",
        False,
        _rds_event("RDS DB Snapshot Event", "SNAPSHOT", "RDS-EVENT-0042", "Manual snapshot created"),
    ),
    "rds.CopyDBSnapshot": _Start(
        "DBSnapshot",
        "DBSnapshotIdentifier",
        True,
        _rds_event("RDS DB Snapshot Event", "SNAPSHOT", "RDS-EVENT-0060", "Finished the copy of snapshot"),
    ),
    "rds.CreateDBClusterSnapshot": _Start(
        "DBClusterSnapshot",
        "DBClusterSnapshotIdentifier",
        False,
        _rds_event(
            "RDS DB Cluster Snapshot Event",
            "CLUSTER_SNAPSHOT",
            "RDS-EVENT-0075",
            "Manual cluster snapshot created",
        ),
    ),
    "rds.CopyDBClusterSnapshot": _Start("DBClusterSnapshot", "DBClusterSnapshotIdentifier", True, None),
    "ec2.CreateSnapshot": _Start("", "SnapshotId", False, _ebs_event("createSnapshot")),
    "ec2.CopySnapshot": _Start("", "SnapshotId", True, _ebs_event("copySnapshot")),
    # DynamoDB announces neither: its points are polled.
    "dynamodb.CreateBackup": _Start("BackupDetails", "BackupArn", False, None),
    "dynamodb.ExportTableToPointInTime": _Start("ExportDescription", "ExportArn", True, None),
}

# Where each describe call reports a point's progress: (points in the answer, their id field,
# their status field, the in-progress value).
_PROGRESS: dict[str, tuple[Callable[[dict[str, Any]], list[dict[str, Any]]], str, str, str]] = {
    "rds.DescribeDBSnapshots": (
        lambda r: r.get("DBSnapshots", []),
        "DBSnapshotIdentifier",
        "Status",
        "creating",
    ),
    "rds.DescribeDBClusterSnapshots": (
        lambda r: r.get("DBClusterSnapshots", []),
        "DBClusterSnapshotIdentifier",
        "Status",
        "creating",
    ),
    "ec2.DescribeSnapshots": (lambda r: r.get("Snapshots", []), "SnapshotId", "State", "pending"),
    "dynamodb.DescribeBackup": (
        lambda r: [r["BackupDescription"]["BackupDetails"]] if "BackupDescription" in r else [],
        "BackupArn",
        "BackupStatus",
        "CREATING",
    ),
    "dynamodb.DescribeExport": (
        lambda r: [r["ExportDescription"]] if "ExportDescription" in r else [],
        "ExportArn",
        "ExportStatus",
        "IN_PROGRESS",
    ),
}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PointEvents:
    """Hooks on the session every emulated client is built from (register before any client)."""

    deliver: Callable[[dict[str, Any]], None]
    account: str
    time_scale: float
    times: PointTimes = field(default_factory=PointTimes)
    _done_at: dict[tuple[str, str], float] = field(default_factory=dict)
    _timers: list[threading.Timer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def register(self, events: Any) -> None:
        for name in _STARTS:
            events.register(f"after-call.{name}", self._started)
        for name in _PROGRESS:
            events.register(f"after-call.{name}", self._described)

    def unregister(self, events: Any) -> None:
        for name in _STARTS:
            events.unregister(f"after-call.{name}", self._started)
        for name in _PROGRESS:
            events.unregister(f"after-call.{name}", self._described)
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every event announced so far is delivered (a bench's history seeded through
        the API announces its points too: they must not count in the day measured)."""
        with self._lock:
            timers = list(self._timers)
        for timer in timers:
            timer.join(timeout)

    def _started(self, parsed: dict[str, Any], context: dict[str, Any], event_name: str, **_: Any) -> None:
        start = _STARTS[event_name.removeprefix("after-call.")]
        point = parsed.get(start.answer) if start.answer else parsed
        if not isinstance(point, dict) or start.identifier not in point:
            return  # refused (already exists, quota): nothing started
        region = str(context.get("client_region"))
        identifier = str(point[start.identifier])
        takes = (self.times.copy_seconds if start.copy else self.times.snapshot_seconds) * self.time_scale
        with self._lock:
            self._done_at[(region, identifier)] = time.monotonic() + takes
            if start.event is None or self._closed:
                return
            event = start.event(self.account, region, identifier, point)
            timer = threading.Timer(max(takes, _MIN_DELAY), self._announce, (event,))
            timer.daemon = True
            self._timers.append(timer)
        timer.start()

    def _announce(self, event: dict[str, Any]) -> None:
        try:
            self.deliver(event)
        except Exception:  # EventBridge retries, then dead-letters; a wait then times out
            logging.getLogger(__name__).exception("completion event not delivered: %s", event["detail-type"])

    def _described(self, parsed: dict[str, Any], context: dict[str, Any], event_name: str, **_: Any) -> None:
        points, id_field, status_field, in_progress = _PROGRESS[event_name.removeprefix("after-call.")]
        region = str(context.get("client_region"))
        now = time.monotonic()
        for point in points(parsed):
            done_at = self._done_at.get((region, str(point.get(id_field))))
            if done_at is not None and now < done_at:
                point[status_field] = in_progress
