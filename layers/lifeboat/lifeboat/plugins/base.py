"""The resource plugin base class: it owns the flow, backends implement small primitives.

A backend says how to create, describe, copy and delete one recovery point of its resource
type and how to find protected resources. The base class turns those primitives into the
idempotent operations the workflow needs (an existing recovery point with our id and tags is
success) and runs level-1 validation.

The contract every backend declares (checked over the registry by
``tests/unit/test_plugin_contract.py``): its options schema (``options_model``), the IAM actions
each operation needs (``iam_actions``, which the template must grant to the functions that run
that operation) and the operations its resource type cannot do (``unsupported``, each with the
reason an operator reads in the ``UnsupportedOperation`` error).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal, NamedTuple, NoReturn

from pydantic import BaseModel, ConfigDict

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import (
    Check,
    RecoveryPointFacts,
    SourceSpec,
    is_ours,
    level1_checks,
)
from lifeboat.domain.restore import RestoredFacts, RestoreSpec, is_drill_resource, owned_by
from lifeboat.errors import (
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    TargetExists,
    TeardownRefused,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from lifeboat.domain.policy import ContinuousProtection, DrTarget


# The backup steps that make a recovery point: the source snapshot, a DR region's copy.
PointStep = Literal["snapshot", "copy"]


class PluginOperation(StrEnum):
    """The operations of the contract; the workflow steps call them by these names."""

    DISCOVER = "discover"
    DESCRIBE_SOURCE = "describe_source"
    SNAPSHOT_QUOTA = "snapshot_quota"
    CREATE = "create_recovery_point"
    DESCRIBE_RECOVERY_POINT = "describe_recovery_point"
    COPY = "copy_recovery_point"
    DELETE = "delete_recovery_point"
    RESTORE = "restore_recovery_point"
    RESTORE_TO_TIME = "restore_to_point_in_time"
    DESCRIBE_RESTORED = "describe_restored"
    DELETE_RESTORED = "delete_restored"
    TAG_RESTORED = "tag_restored"
    # Turn on and verify the type's point-in-time recovery (policy continuousProtection).
    CONTINUOUS = "ensure_continuous_protection"


class NoOptions(BaseModel):
    """The options schema of a type that takes none: any option given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RecoveryPointExists(Exception):
    """Raised by a backend when the create/copy call reports the id is taken.

    Internal to plugins: the base class decides whether that is success or a conflict.
    """


class RestoreTargetExists(Exception):
    """Raised by a backend when a restore's target identifier is taken.

    Internal to plugins: the base class decides whether that is this operation's own resource
    (a retried step) or somebody else's (never overwritten).
    """


class RestoreWindow(BaseModel):
    """The times a point-in-time restore of a source can reach. In a DR region (automated backups
    replicated there) it also says what a restore there shows, without asking the source's region,
    which may be the one that is down."""

    model_config = ConfigDict(defer_build=True)  # built on first use, not on every cold start

    earliest: datetime
    latest: datetime
    encrypted: bool | None = None
    kms_key_id: str | None = None
    engine: str | None = None


class TeardownState(StrEnum):
    PENDING = "pending"  # the resource cannot be deleted yet (still being created)
    DELETING = "deleting"
    GONE = "gone"


class QuotaUsage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    used: int
    max: int

    @property
    def headroom(self) -> int:
        return self.max - self.used


class Discovered(NamedTuple):
    """A resource discovery listed: its policy tag (None when untagged), its read replicas, the
    newest time a point-in-time restore reaches (RDS automated backups; None when off), their
    retention and the regions they are replicated to."""

    arn: str
    policy: str | None
    replicas: tuple[str, ...] = ()  # replica ARNs, in their own regions
    latest_restorable: datetime | None = None
    retention_days: int | None = None
    replicated_to: tuple[str, ...] = ()


class Outcome(BaseModel):
    model_config = ConfigDict(defer_build=True)

    recovery_point_id: str
    region: str
    created: bool


class ResourcePlugin(ABC):
    """One resource type (RDS instance, Aurora cluster, ...)."""

    resource_type: ClassVar[str]
    arn_service: ClassVar[str]
    arn_kind: ClassVar[str]
    # Concurrent cross-region copies AWS allows per destination region for this type.
    max_concurrent_copies: ClassVar[int]
    # IAM actions each operation calls; the template grants them to the function running it.
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]]
    # Operations this type cannot do, with the reason (and the way out) an operator reads.
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {}
    # Schema of the type's options; a type without options forbids any.
    options_model: ClassVar[type[BaseModel]] = NoOptions
    # The steps whose end AWS announces on EventBridge for this type: the backup workflow waits
    # for the event there; elsewhere it polls.
    completion_events: ClassVar[frozenset[PointStep]] = frozenset()

    def __init__(self, clients: ClientProvider) -> None:
        self.clients = clients
        self._account_id: str | None = None

    def _account(self, region: str) -> str:
        """The account the calls run in, for names and ARNs AWS does not return (Lifeboat's
        buckets, a volume's ARN): only a point's id and region are known when describing one.
        One STS call (which needs no grant), unless a step learnt it from the resource's ARN."""
        if self._account_id is None:
            with translated({}, "identifying the account"):
                self._account_id = str(self.clients("sts", region).get_caller_identity()["Account"])
        return self._account_id

    def _tagged(self, region: str, tag_key: str, aws_type: str, what: str) -> Iterator[tuple[str, str]]:
        """(ARN, policy) of each resource of ``aws_type`` (e.g. ``dynamodb:table``) tagged
        ``tag_key``, from the Resource Groups Tagging API: a page per 100 resources, instead of
        a tags call per resource when the service's own listing returns no tags."""
        pages = (
            self.clients("resourcegroupstaggingapi", region)
            .get_paginator("get_resources")
            .paginate(ResourceTypeFilters=[aws_type], TagFilters=[{"Key": tag_key}])
        )
        with translated({}, f"listing {what} tagged {tag_key} in {region}"):
            for page in pages:
                for mapping in page["ResourceTagMappingList"]:
                    policy = tag_dict(mapping.get("Tags")).get(tag_key)
                    if policy:
                        yield mapping["ResourceARN"], policy

    def _learn_account(self, ref: ResourceRef) -> None:
        """A step that knows the resource knows the account: no STS call."""
        self._account_id = self._account_id or ref.account_id

    def _unsupported(self, operation: PluginOperation) -> NoReturn:
        """Raise the declared reason: a clear error beats a half-done recovery point."""
        raise UnsupportedOperation(
            f"{self.resource_type} does not support {operation.value}: {self.unsupported[operation]}"
        )

    # --- primitives each backend implements -------------------------------------------
    @abstractmethod
    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        """Yield (arn, policy name) for resources in ``region`` tagged with ``tag_key``."""

    def inventory(self, region: str, tag_key: str) -> Iterator[Discovered]:
        """What discovery lists, with the read replicas the health check needs.

        The health check reads replicas from the pages discovery reads anyway, so finding them
        costs no call. Default, for types without read replicas: the tagged resources.
        """
        for arn, policy in self.discover(region, tag_key):
            yield Discovered(arn, policy)

    @abstractmethod
    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        """Current facts of the source; ResourceNotFound if it is gone."""

    @abstractmethod
    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        """Start creating a recovery point; raise RecoveryPointExists if the id is taken."""

    @abstractmethod
    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        """Facts of a recovery point; RecoveryPointNotFound if there is none."""

    def describe_recovery_points(
        self, region: str, recovery_point_ids: Sequence[str]
    ) -> dict[str, RecoveryPointFacts]:
        """Facts of several recovery points in ``region`` by id; a point that does not exist is
        absent. One call per point here: a type whose API describes many at once overrides it
        (cleanup describes a Map item's points with it)."""
        found: dict[str, RecoveryPointFacts] = {}
        for point in recovery_point_ids:
            try:
                found[point] = self.describe_recovery_point(region, point)
            except RecoveryPointNotFound:
                continue
        return found

    @abstractmethod
    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        """Start a cross-region copy under the same id; raise RecoveryPointExists if taken."""

    @abstractmethod
    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """Delete one recovery point; RecoveryPointNotFound if there is none."""

    @abstractmethod
    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """Manual snapshot quota usage in ``region``, or None if the type has no such quota."""

    @abstractmethod
    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        """Start restoring the point held in ``spec.region`` into the new resource ``spec.target_id``;
        raise RestoreTargetExists if the identifier is taken."""

    @abstractmethod
    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        """Start a point-in-time restore of the source into ``spec.target_id`` (same region);
        raise RestoreTargetExists if the identifier is taken."""

    @abstractmethod
    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        """The point-in-time window of the source, or None when it has none (no automated backups)."""

    @abstractmethod
    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        """Facts of a restored resource; ResourceNotFound if there is none."""

    @abstractmethod
    def _delete_restored(self, region: str, identifier: str) -> None:
        """Start deleting a restored resource, without a final snapshot."""

    @abstractmethod
    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        """Add tags to a restored resource (e.g. mark a failed restore for a person to clean up)."""

    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """The source's network settings and tags, which a restore in its region inherits."""
        return RestoreNetwork(), {}

    def restore_window_in(self, ref: ResourceRef, region: str) -> RestoreWindow | None:
        """The point-in-time window in ``region``: the source's own in its region; elsewhere
        only types that replicate their automated backups have one."""
        return self.restore_window(ref) if region == ref.region else None

    def ensure_continuous_protection(
        self, ref: ResourceRef, wanted: ContinuousProtection, replicate_to: DrTarget | None
    ) -> list[str]:
        """Turn on what ``wanted`` asks of this type's point-in-time recovery (and replicate it to
        ``replicate_to`` where the type can); the changes made, none when all was in place."""
        self._unsupported(PluginOperation.CONTINUOUS)

    def global_replicas(self, ref: ResourceRef) -> tuple[str, ...]:
        """ARNs of the resource's replicas in other regions that its discovery does not list
        (a DynamoDB global table's, one call); none for other types."""
        return ()

    def point_identifier(self, region: str, recovery_point_id: str) -> str:
        """The identifier AWS's completion events give this point: its own id, where the
        type names points by Lifeboat's ids (RDS snapshots)."""
        return recovery_point_id

    def latest_restorable(self, ref: ResourceRef) -> datetime | None:
        """The newest time a point-in-time restore of the source reaches, for types whose
        discovery does not say (one call); None when it has none."""
        return None

    # --- the flow, owned here ------------------------------------------------------------
    def create_recovery_point(
        self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]
    ) -> Outcome:
        try:
            self._create(ref, recovery_point_id, tags)
        except RecoveryPointExists:
            self._ensure_ours(ref.region, recovery_point_id)
            return Outcome(recovery_point_id=recovery_point_id, region=ref.region, created=False)
        return Outcome(recovery_point_id=recovery_point_id, region=ref.region, created=True)

    def copy_recovery_point(
        self, ref: ResourceRef, recovery_point_id: str, target_region: str, kms_key_id: str | None
    ) -> Outcome:
        try:
            self._copy(ref, recovery_point_id, target_region, kms_key_id)
        except RecoveryPointExists:
            self._ensure_ours(target_region, recovery_point_id)
            return Outcome(recovery_point_id=recovery_point_id, region=target_region, created=False)
        return Outcome(recovery_point_id=recovery_point_id, region=target_region, created=True)

    def validate(
        self,
        region: str,
        recovery_point_id: str,
        source: SourceSpec,
        *,
        expected_kms_key_id: str | None,
        expected_tags: dict[str, str],
    ) -> tuple[RecoveryPointFacts, list[Check]]:
        facts = self.describe_recovery_point(region, recovery_point_id)
        checks = level1_checks(
            facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        return facts, checks

    def start_restore(
        self,
        recovery_point_id: str | None,
        spec: RestoreSpec,
        operation_id: str,
        *,
        ref: ResourceRef,
        point_in_time: datetime | None = None,
    ) -> Outcome:
        """Restore a recovery point (or the source to ``point_in_time``) into a *new* resource.

        The target found already existing is success only when this very operation created it
        (a retried step); anything else is TargetExists and nothing is touched.
        """
        try:
            if point_in_time is not None:
                self._restore_to_time(ref, point_in_time, spec)
            elif recovery_point_id is not None:
                self._restore(recovery_point_id, spec)
            else:
                raise ValueError("a restore needs a recovery point or a point in time")
        except RestoreTargetExists:
            self._ensure_restored_by(spec.region, spec.target_id, operation_id)
            return Outcome(recovery_point_id=spec.target_id, region=spec.region, created=False)
        return Outcome(recovery_point_id=spec.target_id, region=spec.region, created=True)

    def ensure_target_free(self, region: str, identifier: str, operation_id: str) -> None:
        """Before any mutation: the target must not exist, unless this operation created it."""
        try:
            self._ensure_restored_by(region, identifier, operation_id)
        except ResourceNotFound:
            return

    def teardown(self, region: str, identifier: str, operation_id: str) -> TeardownState:
        """Delete a drill's temporary resource: only one tagged as that drill's own, never another."""
        try:
            facts = self.describe_restored(region, identifier)
        except ResourceNotFound:
            return TeardownState.GONE
        if not is_drill_resource(facts.tags, operation_id):
            raise TeardownRefused(
                f"{facts.arn} is not the temporary resource of drill {operation_id}; Lifeboat deletes "
                "only resources it restored for that drill"
            )
        if facts.status != "deleting":
            try:
                self._delete_restored(region, identifier)
            except ResourceNotFound:
                return TeardownState.GONE
        return TeardownState.DELETING

    def _ensure_restored_by(self, region: str, identifier: str, operation_id: str) -> None:
        facts = self.describe_restored(region, identifier)
        if not owned_by(facts.tags, operation_id):
            raise TargetExists(
                f"{identifier} already exists in {region} and was not created by {operation_id}; "
                "Lifeboat never restores over an existing resource: choose a new target identifier"
            )

    def _ensure_ours(self, region: str, recovery_point_id: str) -> None:
        facts = self.describe_recovery_point(region, recovery_point_id)
        if not is_ours(facts.tags, recovery_point_id):
            raise RecoveryPointConflict(
                f"{facts.arn} exists but does not carry Lifeboat's tags; refusing to treat it "
                "as our recovery point"
            )
