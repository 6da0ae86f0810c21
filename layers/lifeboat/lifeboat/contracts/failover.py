"""The JSON the failover workflow's steps receive and return (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from lifeboat.contracts.backup import Notification, StepError
from lifeboat.domain.arn import REGION_PATTERN, ResourceArn
from lifeboat.domain.failover import DnsRecord, Mechanism, ResourceReadiness
from lifeboat.domain.models import CamelModel
from lifeboat.domain.operations import OperationStatus

__all__ = [
    "DnsChange",
    "DnsResult",
    "FailoverItem",
    "FailoverPlan",
    "FailoverRecordRequest",
    "FailoverRecordResult",
    "FailoverRequest",
    "ItemOutcome",
    "ItemStep",
    "PromotedPrimary",
    "ReadinessInput",
    "SwitchDnsRequest",
]


class FailoverRequest(CamelModel):
    """What an operator asks for: move a plan's resources to a region."""

    # None: the config's only plan.
    plan: str | None = Field(default=None, min_length=1)
    target_region: str = Field(pattern=REGION_PATTERN)
    dry_run: bool = False
    # Promote a replica whose lag is over the plan's limit (or unknown): an unplanned failover.
    allow_data_loss: bool = False
    requested_by: str | None = None


class ReadinessInput(CamelModel):
    """failover_readiness's input: the raw request (reported field by field) and the execution."""

    model_config = ConfigDict(extra="ignore")

    request: dict[str, Any]
    execution_id: str
    start_time: datetime


class FailoverItem(CamelModel):
    """One resource of a failover, as the Map's branch receives it."""

    operation_id: str
    plan: str | None = None
    resource_arn: ResourceArn
    region: str
    mechanism: Mechanism
    # The new primary: the replica promoted in place, or the restore's new identifier.
    target_identifier: str
    replica_arn: str | None = None
    # The Aurora Global Database whose writer moves (global-switchover, global-failover).
    global_cluster_id: str | None = None
    # rebuild-replica: the primary the earlier failover made, replicated back home.
    current_primary_arn: str | None = None
    max_replica_lag_seconds: int | None = None
    recovery_point_id: str | None = None
    # restore-point-in-time: the time restored to (the newest the replicated backups reached).
    point_in_time: datetime | None = None
    data_age_seconds: float | None = None
    # Level-2 checks of the new primary before its DNS name moves (plan dataChecks and the
    # resource has dataChecks in the config).
    data_checks: bool = False


class FailoverPlan(CamelModel):
    """The readiness verdict, and what the workflow does when it is ready."""

    plan: str
    region: str
    dry_run: bool
    allow_data_loss: bool
    ready: bool
    execution_id: str
    started_at: datetime
    items: list[FailoverItem]
    readiness: list[ResourceReadiness]
    dns_records: list[DnsRecord]
    summary: str
    notification: Notification | None = None


class ItemStep(CamelModel):
    model_config = ConfigDict(extra="ignore")

    item: FailoverItem


class PromotedPrimary(CamelModel):
    target_id: str
    endpoint: str
    port: int | None = None


class VerifyStep(CamelModel):
    """The level-2 check of a promoted primary: the item and what its promotion returned."""

    model_config = ConfigDict(extra="ignore")

    item: FailoverItem
    primary: PromotedPrimary


class ItemOutcome(CamelModel):
    """A branch's end: the new primary's endpoint, or why it did not come up."""

    model_config = ConfigDict(extra="ignore")

    item: FailoverItem
    status: OperationStatus
    endpoint: str | None = None
    # When the new primary was up (the branch's last state): its own time to recover.
    ready_at: datetime | None = None
    error: StepError | None = None


class SwitchDnsRequest(CamelModel):
    model_config = ConfigDict(extra="ignore")

    plan: FailoverPlan
    outcomes: list[ItemOutcome]


class DnsChange(CamelModel):
    record: str
    value: str
    change_id: str


class DnsResult(CamelModel):
    changes: list[DnsChange]
    # Records left as they are: their resource did not fail over.
    unchanged: list[str] = Field(default_factory=list)


class FailoverRecordRequest(CamelModel):
    model_config = ConfigDict(extra="ignore")

    plan: FailoverPlan
    outcomes: list[ItemOutcome]
    dns: DnsResult | None = None
    dns_error: StepError | None = None


class FailoverRecordResult(CamelModel):
    status: OperationStatus
    rto_seconds: float
    notification: Notification
