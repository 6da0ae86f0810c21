"""Which recovery point an AWS completion event is about.

RDS announces a finished manual snapshot, cluster snapshot or cross-region snapshot copy, and
EC2 a finished EBS snapshot or copy, on EventBridge in the region of the point. The backup
workflow waits for these instead of polling (``service/completion.py``); the events are best
effort (RDS says so), so a wait that hears nothing ends on its timeout and looks for itself.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EBS_DETAIL_TYPE",
    "EBS_EVENTS",
    "IN_PROGRESS",
    "RDS_DETAIL_TYPES",
    "RDS_TERMINAL_EVENTS",
    "CompletionEvent",
    "PointEvent",
    "native_id",
]

RDS_DETAIL_TYPES = ("RDS DB Snapshot Event", "RDS DB Cluster Snapshot Event")
# The RDS events that end a wait: a manual snapshot created (0042), a snapshot copy finished
# (0060) or cancelled (0061), a manual cluster snapshot created (0075). A point that failed
# otherwise has no reliable event: its wait ends on the timeout and validation finds it.
RDS_TERMINAL_EVENTS = ("RDS-EVENT-0042", "RDS-EVENT-0060", "RDS-EVENT-0061", "RDS-EVENT-0075")
# A point's statuses while it is being made: its wait (or validation) goes on.
IN_PROGRESS = frozenset({"creating", "copying", "pending", "backing-up"})
EBS_DETAIL_TYPE = "EBS Snapshot Notification"
EBS_EVENTS = ("createSnapshot", "copySnapshot")


class PointEvent(NamedTuple):
    """A point whose creation or copy ended (made or failed: its validation tells which), by its
    region and AWS identifier."""

    region: str
    identifier: str


def native_id(arn: str) -> str:
    """The AWS identifier at the end of a point's ARN: an RDS snapshot identifier
    (``...:snapshot:lb-x``, ``...:cluster-snapshot:lb-x``) or an EBS ``snap-`` id."""
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


class CompletionEvent(BaseModel):
    """The EventBridge events the stack's completion rules deliver (RDS snapshot events, EBS
    snapshot notifications), from the stack's region or forwarded from a DR region."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    source: Literal["aws.rds", "aws.ec2"]
    detail_type: Literal[
        "RDS DB Snapshot Event", "RDS DB Cluster Snapshot Event", "EBS Snapshot Notification"
    ] = Field(alias="detail-type")
    region: str = Field(min_length=1)
    detail: dict[str, Any]

    def finished_point(self) -> PointEvent | None:
        """The point this event says is finished, or None (a point started, another event)."""
        detail = self.detail
        if self.source == "aws.ec2":
            if self.detail_type != EBS_DETAIL_TYPE:
                return None
            snapshot = str(detail.get("snapshot_id", ""))
            if detail.get("event") not in EBS_EVENTS or ":snapshot/" not in snapshot:
                return None
            # arn:aws:ec2::<region>:snapshot/snap-...: the region sits where an account would.
            parts = snapshot.split(":")
            return PointEvent(parts[3] or parts[4] or self.region, native_id(snapshot))
        if (
            self.detail_type not in RDS_DETAIL_TYPES
            or detail.get("EventID") not in RDS_TERMINAL_EVENTS
            or not detail.get("SourceIdentifier")
        ):
            return None
        return PointEvent(self.region, str(detail["SourceIdentifier"]))
