"""The DynamoDB table plugin: an on-demand backup in the table's region, an S3 export in each
DR region, a record of each point beside them (the package docstring tells why)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.clients import ClientProvider, mutation_client
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import (
    MANAGED_BY_TAG,
    RESOURCE_TAG,
    Check,
    RecoveryPointFacts,
    SourceSpec,
    is_ours,
)
from lifeboat.domain.restore import RESTORE_OPERATION_TAG, RestoredFacts, RestoreSpec, owned_by
from lifeboat.errors import (
    InvalidInput,
    PolicyViolation,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    TransientAwsError,
)
from lifeboat.plugins.base import (
    PluginOperation,
    QuotaUsage,
    RecoveryPointExists,
    ResourcePlugin,
    RestoreTargetExists,
    RestoreWindow,
)
from lifeboat.plugins.dynamodb import pitr
from lifeboat.plugins.dynamodb.errors import (
    DYNAMODB_ERRORS,
    EXPORT_ERRORS,
    NOT_YET_TAGGABLE,
    RESTORE_ERRORS,
    TARGET_EXISTS,
)
from lifeboat.plugins.dynamodb.export_import import export_request, import_request
from lifeboat.plugins.dynamodb.facts import (
    Point,
    backup_point,
    export_point,
    kms,
    restored_facts,
    table_checks,
)
from lifeboat.plugins.dynamodb.permissions import IAM_ACTIONS
from lifeboat.plugins.dynamodb.records import PointRecord, RecordStore, record_key

if TYPE_CHECKING:
    from lifeboat.domain.policy import ContinuousProtection, DrTarget

__all__ = ["DynamoDbTablePlugin"]

# A retried create looks for its backup from a little before its record was written.
_CLOCK_SKEW = timedelta(minutes=5)
# A record this young without a backup is another execution's, backing up right now; an older
# one is a crashed attempt's, whose backup this step starts.
_CREATE_GRACE = timedelta(minutes=2)


class DynamoDbTablePlugin(ResourcePlugin):
    resource_type = "dynamodb_table"
    arn_service = "dynamodb"
    arn_kind = "table"
    # Exports in flight: AWS allows 300 per account (all regions), not a per-region copy limit.
    max_concurrent_copies = 300
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = IAM_ACTIONS

    def __init__(self, clients: ClientProvider) -> None:
        super().__init__(clients)
        self._records = RecordStore(clients, self._account)

    def _ddb(self, region: str) -> Any:
        return self.clients("dynamodb", region)

    # --- the source -----------------------------------------------------------------------
    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        """One tag query per page of tagged tables, not a ListTagsOfResource per table."""
        return self._tagged(region, tag_key, "dynamodb:table", "DynamoDB tables")

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        table = self._table(ref.region, ref.name, f"describing {ref.arn}")
        encrypted, key = kms(table.get("SSEDescription") or {})
        status = table["TableStatus"]
        return SourceSpec(
            region=ref.region,
            # Backed up only when ACTIVE; any other state is waited out (ResourceNotReady).
            status="available" if status == "ACTIVE" else status.lower(),
            encrypted=encrypted,
            kms_key_id=key,
        )

    def _table(self, region: str, name: str, context: str) -> dict[str, Any]:
        with translated(DYNAMODB_ERRORS, context):
            return dict(self._ddb(region).describe_table(TableName=name)["Table"])

    def _table_tags(self, region: str, arn: str) -> dict[str, str]:
        with translated(DYNAMODB_ERRORS, f"tags of {arn}"):
            return tag_dict(self._ddb(region).list_tags_of_resource(ResourceArn=arn).get("Tags"))

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """None: DynamoDB has no quota on the number of on-demand backups."""
        return None

    # --- recovery points ---------------------------------------------------------------------
    def _backup_named(self, region: str, table: str, point: str, since: datetime) -> str | None:
        """The on-demand backup of ``table`` named ``point``: one listing of that table since
        ``since``, used only when a create was interrupted before recording the backup's ARN."""
        pages = (
            self._ddb(region)
            .get_paginator("list_backups")
            .paginate(TableName=table, BackupType="USER", TimeRangeLowerBound=since)
        )
        with translated(DYNAMODB_ERRORS, f"backups of {table} in {region}"):
            named = [s for page in pages for s in page["BackupSummaries"] if s["BackupName"] == point]
        # Backup names are not unique: the first one started is the point.
        first = min(named, key=lambda s: (s["BackupCreationDateTime"], s["BackupArn"]), default=None)
        return str(first["BackupArn"]) if first else None

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        """Record the point (its table's schema: a DR copy is imported with it), back up, record
        the backup; a record already there is a retried step's, or not ours."""
        self._learn_account(ref)
        table = self._table(ref.region, ref.name, f"describing {ref.arn}")
        record = PointRecord(
            recovery_point_id=recovery_point_id,
            table_arn=table["TableArn"],
            source_region=ref.region,
            recorded_at=datetime.now(UTC),
            key_schema=table["KeySchema"],
            attribute_definitions=table["AttributeDefinitions"],
            global_secondary_indexes=[
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                for index in table.get("GlobalSecondaryIndexes") or []
            ],
        )
        # Recorded before the backup starts: a retry after a crash knows to look for it.
        if self._records.write_first(ref.region, record, tags):
            backup_arn = None
        else:
            found = self._records.read(ref.region, recovery_point_id)
            if found is None:
                raise ResourceNotReady(
                    f"the record of {recovery_point_id} in {ref.region} changed while read"
                )
            record, recorded_tags = found
            if record.backup_arn or not is_ours(recorded_tags, recovery_point_id):
                raise RecoveryPointExists(recovery_point_id)
            since = record.recorded_at - _CLOCK_SKEW
            backup_arn = self._backup_named(ref.region, ref.name, recovery_point_id, since)
            if backup_arn is None and datetime.now(UTC) - record.recorded_at < _CREATE_GRACE:
                # Another execution of this run wrote the record moments ago and is backing up
                # now: backing up too would make a second backup (names are not unique).
                raise ResourceNotReady(f"{recovery_point_id} is being backed up by another attempt")
        if backup_arn is None:
            backup_arn = self._back_up_once(ref, recovery_point_id, record.recorded_at - _CLOCK_SKEW)
        self._records.write(ref.region, record.model_copy(update={"backup_arn": backup_arn}), tags)

    def _back_up_once(self, ref: ResourceRef, recovery_point_id: str, since: datetime) -> str:
        """CreateBackup takes no client token and names need not be unique: it is sent once, and
        when its answer is lost Lifeboat looks for the backup by name before anything sends it
        again (not found: the error stands and the workflow retries the step)."""
        try:
            with translated(DYNAMODB_ERRORS, f"backup {recovery_point_id} of {ref.arn}"):
                created = mutation_client(self.clients, "dynamodb", ref.region).create_backup(
                    TableName=ref.name, BackupName=recovery_point_id
                )
        except TransientAwsError:
            found = self._backup_named(ref.region, ref.name, recovery_point_id, since)
            if found is None:
                raise
            return found
        return str(created["BackupDetails"]["BackupArn"])

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        return self._point(region, recovery_point_id).facts

    def validate(
        self,
        region: str,
        recovery_point_id: str,
        source: SourceSpec,
        *,
        expected_kms_key_id: str | None,
        expected_tags: dict[str, str],
    ) -> tuple[RecoveryPointFacts, list[Check]]:
        """Level 1 for a table: available, encrypted with the right key, tags, and the item count
        and size AWS recorded for the point (the evidence of what it holds)."""
        if RESOURCE_TAG in expected_tags:
            # The point's tags name its table, whose account owns the bucket: no STS call.
            self._learn_account(ResourceRef.parse(expected_tags[RESOURCE_TAG]))
        point = self._point(region, recovery_point_id)
        checks = table_checks(
            point, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        return point.facts, checks

    def _point(self, region: str, recovery_point_id: str) -> Point:
        found = self._records.read(region, recovery_point_id)
        if found is None:
            raise RecoveryPointNotFound(
                f"DynamoDB recovery point {recovery_point_id} in {region}: no record in "
                f"s3://{self._records.bucket(region)}"
            )
        record, tags = found
        if record.export_arn:
            return self._export_point(region, record, record.export_arn, tags)
        return self._backup_point(region, record, tags)

    def _backup_arn(self, region: str, record: PointRecord) -> str:
        point = record.recovery_point_id
        arn = record.backup_arn or self._backup_named(
            region, record.table_name, point, record.recorded_at - _CLOCK_SKEW
        )
        if arn is None:
            raise RecoveryPointNotFound(f"{point} in {region} is recorded but its backup was never started")
        return arn

    def _backup_point(self, region: str, record: PointRecord, tags: dict[str, str]) -> Point:
        arn = self._backup_arn(region, record)
        with translated(DYNAMODB_ERRORS, f"backup {record.recovery_point_id} in {region}"):
            described = self._ddb(region).describe_backup(BackupArn=arn)["BackupDescription"]
        return backup_point(described, record, arn, region, tags)

    def _export_point(self, region: str, record: PointRecord, export_arn: str, tags: dict[str, str]) -> Point:
        with translated(DYNAMODB_ERRORS, f"export {record.recovery_point_id} to {region}"):
            export = self._ddb(record.source_region).describe_export(ExportArn=export_arn)[
                "ExportDescription"
            ]
        return export_point(export, record, export_arn, region, tags)

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        self._learn_account(ref)
        if self._records.exists(target_region, recovery_point_id):
            raise RecoveryPointExists(recovery_point_id)
        source = self._records.get(ref.region, recovery_point_id)
        if source is None or not source.record.backup_arn:
            raise RecoveryPointNotFound(f"{recovery_point_id} in {ref.region}: no backup recorded to copy")
        record = source.record
        tags = source.written_tags
        if tags is None:
            tags = self._records.tags(ref.region, recovery_point_id)
        request = export_request(
            ref, recovery_point_id, target_region, self._records.bucket(target_region), kms_key_id
        )
        try:
            with translated(EXPORT_ERRORS, f"export of {ref.arn} to {target_region} for {recovery_point_id}"):
                export = self._ddb(ref.region).export_table_to_point_in_time(**request)["ExportDescription"]
        except ClientError as exc:
            if error_code(exc) == "PointInTimeRecoveryUnavailableException":
                raise PolicyViolation(
                    f"{ref.arn} cannot be copied to {target_region}: a DR copy of a DynamoDB table is an "
                    "export, which needs point-in-time recovery; enable it on the table"
                ) from exc
            raise
        copy = record.model_copy(
            update={
                "backup_arn": None,
                "export_arn": export["ExportArn"],
                "kms_key_id": kms_key_id,
                "recorded_at": datetime.now(UTC),
            }
        )
        self._records.write(target_region, copy, tags)

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """Delete the backup (or the export's objects), then the record that names it."""
        found = self._records.get(region, recovery_point_id)
        if found is None:
            raise RecoveryPointNotFound(f"DynamoDB recovery point {recovery_point_id} in {region}: no record")
        record = found.record
        if record.export_arn:
            self._records.delete_objects(region, f"{recovery_point_id}/", keep=record_key(recovery_point_id))
        else:
            try:
                arn = self._backup_arn(region, record)
                with translated(DYNAMODB_ERRORS, f"deleting backup {recovery_point_id} in {region}"):
                    self._ddb(region).delete_backup(BackupArn=arn)
            except RecoveryPointNotFound:
                pass  # already gone: only the record is left to delete
        self._records.delete_record(region, recovery_point_id)

    # --- restores -------------------------------------------------------------------------
    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """A table has no network settings; a restore inherits its tags."""
        return RestoreNetwork(), self._table_tags(ref.region, ref.arn)

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        found = self._records.get(spec.region, recovery_point_id)
        if found is None:
            raise RecoveryPointNotFound(
                f"DynamoDB recovery point {recovery_point_id} in {spec.region}: no record"
            )
        record = found.record
        if record.export_arn:
            self._import(record, record.export_arn, spec)
            return
        backup_arn = self._backup_arn(spec.region, record)
        try:
            with translated(RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
                table = self._ddb(spec.region).restore_table_from_backup(
                    TargetTableName=spec.target_id, BackupArn=backup_arn
                )["TableDescription"]
        except ClientError as exc:
            if error_code(exc) in TARGET_EXISTS:
                self._resume(spec, lambda summary: summary.get("SourceBackupArn") == backup_arn)
                raise RestoreTargetExists(spec.target_id) from exc
            raise
        self._finish(spec, table["TableArn"])

    def _import(self, record: PointRecord, export_arn: str, spec: RestoreSpec) -> None:
        """Restore a DR copy: import its export into a new table, encrypted with the copy's key.

        On demand capacity; local secondary indexes cannot be created by an import (AWS).
        """
        bucket = (self._records.bucket(spec.region), self._account(spec.region))
        request = import_request(record, export_arn, spec, bucket)
        with translated(
            RESTORE_ERRORS | dict.fromkeys(TARGET_EXISTS, RestoreTargetExists),
            f"importing {spec.target_id} in {spec.region}",
        ):
            imported = self._ddb(spec.region).import_table(**request)["ImportTableDescription"]
        self._finish(spec, imported["TableArn"])

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        if spec.region != ref.region:
            raise InvalidInput(
                f"a point-in-time restore of a DynamoDB table is made in its own region ({ref.region}); "
                f"to restore in {spec.region}, restore a recovery point copied there"
            )
        try:
            with translated(RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region} to {at}"):
                table = self._ddb(spec.region).restore_table_to_point_in_time(
                    SourceTableName=ref.name, TargetTableName=spec.target_id, RestoreDateTime=at
                )["TableDescription"]
        except ClientError as exc:
            if error_code(exc) in TARGET_EXISTS:
                self._resume(
                    spec, lambda s: s.get("SourceTableArn") == ref.arn and not s.get("SourceBackupArn")
                )
                raise RestoreTargetExists(spec.target_id) from exc
            raise
        self._finish(spec, table["TableArn"])

    def _finish(self, spec: RestoreSpec, table_arn: str) -> None:
        """Tags and deletion protection: DynamoDB's restores and imports take neither."""
        context = f"tagging the restored table {spec.target_id} in {spec.region}"
        with translated(NOT_YET_TAGGABLE, context):
            self._ddb(spec.region).tag_resource(ResourceArn=table_arn, Tags=tag_list(spec.tags))
            if spec.deletion_protection:
                self._ddb(spec.region).update_table(TableName=spec.target_id, DeletionProtectionEnabled=True)

    def _resume(self, spec: RestoreSpec, restored_from: Callable[[dict[str, Any]], bool]) -> None:
        """A retried restore step whose table exists: finish it when the table is the restore this
        step asked for (same source per ``RestoreSummary``) and no other operation tagged it.

        The first attempt may have stopped before DynamoDB accepted the tags. The base class
        then confirms ownership by the tags; any other table stays untouched (TargetExists).
        """
        try:
            table = self._table(spec.region, spec.target_id, f"describing {spec.target_id}")
        except ResourceNotFound:
            return
        tags = self._table_tags(spec.region, table["TableArn"])
        operation = spec.tags.get(RESTORE_OPERATION_TAG, "")
        unclaimed = MANAGED_BY_TAG not in tags or owned_by(tags, operation)
        if unclaimed and restored_from(table.get("RestoreSummary") or {}):
            self._finish(spec, table["TableArn"])

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        with translated(DYNAMODB_ERRORS, f"point-in-time recovery of {ref.arn}"):
            described = self._ddb(ref.region).describe_continuous_backups(TableName=ref.name)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription") or {}
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            return None
        return RestoreWindow(
            earliest=pitr["EarliestRestorableDateTime"], latest=pitr["LatestRestorableDateTime"]
        )

    def ensure_continuous_protection(
        self, ref: ResourceRef, wanted: ContinuousProtection, replicate_to: DrTarget | None
    ) -> list[str]:
        """PITR on; a copy in another region is a global table's replica, which Lifeboat does
        not create (the table's owner decides on writes in two regions)."""
        return pitr.ensure(self._ddb(ref.region), ref, wanted.retention_days)

    def latest_restorable(self, ref: ResourceRef) -> datetime | None:
        return pitr.latest_restorable(self._ddb(ref.region), ref)

    def global_replicas(self, ref: ResourceRef) -> tuple[str, ...]:
        """The global table's replicas (version 2019.11.21) in other regions, from DescribeTable."""
        table = self._table(ref.region, ref.name, f"describing {ref.arn}")
        regions = [r["RegionName"] for r in table.get("Replicas", []) if r["RegionName"] != ref.region]
        return tuple(f"arn:{ref.partition}:dynamodb:{r}:{ref.account_id}:table/{ref.name}" for r in regions)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        table = self._table(region, identifier, f"describing {identifier} in {region}")
        return restored_facts(table, region, identifier, self._table_tags(region, table["TableArn"]))

    def _delete_restored(self, region: str, identifier: str) -> None:
        with translated(
            DYNAMODB_ERRORS | {"ResourceInUseException": ResourceNotReady}, f"deleting {identifier}"
        ):
            self._ddb(region).delete_table(TableName=identifier)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(DYNAMODB_ERRORS, f"tagging {restored.arn}"):
            self._ddb(restored.region).tag_resource(ResourceArn=restored.arn, Tags=tag_list(tags))
