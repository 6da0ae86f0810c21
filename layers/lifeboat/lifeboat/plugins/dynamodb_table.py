"""DynamoDB tables: an on-demand backup in the table's region, an S3 export in each DR region.

AWS cannot copy an on-demand backup (``CreateBackup``) to another region, and such backups carry
no tags. So, per recovery point:

- in the table's region the point is an on-demand backup named with the recovery point id;
- in a DR region it is an export of the table (``ExportTableToPointInTime``, which needs
  point-in-time recovery on the table) into Lifeboat's bucket of that region, encrypted with
  that region's KMS key (``S3SseAlgorithm=KMS`` + ``S3SseKmsKeyId``). The export holds the table
  as of the copy step, at or after the backup: the backup's own time is usually not exportable
  yet (PITR trails by about five minutes) and the copy step does not wait. Restoring it is an
  ``ImportTable`` in that region;
- in every region Lifeboat writes a record ``s3://lifeboat-dynamodb-<account>-<region>/<id>/
  lifeboat-recovery-point.json``, tagged with the recovery point's tags: it names the backup or
  the export (AWS chooses their ARNs), keeps what an import needs (key schema, indexes, key) and
  carries the tags backups cannot. A point is found by reading that one object, never by
  listing the account's backups or exports.

Create and copy are idempotent: create writes the record before ``CreateBackup``, only where
none is (``If-None-Match``), so a step retried after a crash finds the backup the first attempt
started with one ``ListBackups`` of that table since the record was written; an export carries a
``ClientToken`` derived from the point and the region, so a retried copy gets back the export the
first attempt started (AWS keeps a token for 8 hours).

The calls of a daily cycle are counted by ``bench/backup_cycle.py --type dynamodb_table``: each
step reads only the objects it needs, and the tags only where a check needs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, urlencode

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from lifeboat.aws.buckets import create_private_bucket
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
    level1_checks,
)
from lifeboat.domain.restore import RESTORE_OPERATION_TAG, RestoredFacts, RestoreSpec, owned_by
from lifeboat.errors import (
    InvalidInput,
    LifeboatError,
    PolicyViolation,
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
)
from lifeboat.plugins.base import (
    PluginOperation,
    QuotaUsage,
    RecoveryPointExists,
    ResourcePlugin,
    RestoreTargetExists,
    RestoreWindow,
)

BUCKET_PREFIX = "lifeboat-dynamodb"
RECORD_NAME = "lifeboat-recovery-point.json"
# User metadata of a record: the tags it was written with, returned by GetObject, so a copy carries
# them without a GetObjectTagging. The object's tags stay the authority (validation, cleanup and
# legal holds read them); metadata, unlike the JSON, is ignored by a Lifeboat that predates it.
WRITTEN_TAGS = "lifeboat-tags"
# A retried create looks for its backup from a little before its record was written.
_CLOCK_SKEW = timedelta(minutes=5)
# Level-1 checks a table replaces: "available" is restated with the status (a failed export
# says why); a table has no engine; and DynamoDB reports a table's size only approximately
# (refreshed about every six hours), so a size in GiB cannot be matched against the source.
_NOT_FOR_TABLES = frozenset({"available", "engine", "size_gib"})

_DYNAMODB_ERRORS: dict[str, type[LifeboatError]] = {
    "ResourceNotFoundException": ResourceNotFound,
    "TableNotFoundException": ResourceNotFound,
    "SourceTableNotFoundException": ResourceNotFound,
    "TableInUseException": ResourceNotReady,
    # A table's first backups become possible a few minutes after it is created.
    "ContinuousBackupsUnavailableException": ResourceNotReady,
    "BackupInUseException": ResourceNotReady,
    "BackupNotFoundException": RecoveryPointNotFound,
    "ExportNotFoundException": RecoveryPointNotFound,
    # Concurrent control-plane operations (backups, restores) per account.
    "LimitExceededException": ResourceNotReady,
}
_EXPORT_ERRORS = _DYNAMODB_ERRORS | {
    # At most 300 exports in flight per account: CopyToRegion retries this one.
    "LimitExceededException": SnapshotQuotaExceeded,
    "ExportConflictException": RecoveryPointConflict,
    "IdempotentParameterMismatchException": RecoveryPointConflict,
}
_RESTORE_ERRORS = _DYNAMODB_ERRORS | {
    "PointInTimeRecoveryUnavailableException": InvalidInput,
    "InvalidRestoreTimeException": InvalidInput,
    "ImportConflictException": InvalidInput,
}
# DynamoDB refuses tags and settings on a table it is still creating (a restore, an import).
_NOT_YET_TAGGABLE = {
    "ResourceNotFoundException": ResourceNotReady,
    "ResourceInUseException": ResourceNotReady,
}
_TARGET_EXISTS = frozenset({"TableAlreadyExistsException", "ResourceInUseException"})
_NO_OBJECT = frozenset({"NoSuchKey", "NoSuchBucket", "404"})
# A table in these states will not serve reads without a person (lost access to its key).
_FAILED_TABLE_STATUSES = frozenset({"INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVED"})


class PointRecord(BaseModel):
    """Lifeboat's record of one recovery point in one region (the JSON of the record object)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    recovery_point_id: str
    table_arn: str
    source_region: str
    recorded_at: datetime
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    global_secondary_indexes: list[dict[str, Any]] = []
    backup_arn: str | None = None  # the point in the table's region
    export_arn: str | None = None  # a copy in a DR region
    kms_key_id: str | None = None  # the key the copy was encrypted with

    @property
    def table_name(self) -> str:
        return self.table_arn.split("/", 1)[1]


class _Found(NamedTuple):
    """A record as read: ``written_tags`` are the tags it was written with (its metadata), None
    for a record written before Lifeboat kept them there."""

    record: PointRecord
    written_tags: dict[str, str] | None


class _Point(NamedTuple):
    facts: RecoveryPointFacts
    item_count: int | None
    size_bytes: int | None


def bucket_name(account_id: str, region: str) -> str:
    """Lifeboat's bucket of a region: exports of DR copies and the records of every point."""
    return f"{BUCKET_PREFIX}-{account_id}-{region}"


def record_key(recovery_point_id: str) -> str:
    return f"{recovery_point_id}/{RECORD_NAME}"


def _kms(sse: dict[str, Any]) -> tuple[bool, str | None]:
    """(encrypted under a KMS key, key ARN); a table under the AWS owned key reports neither."""
    encrypted = sse.get("Status") in ("ENABLED", "UPDATING") and sse.get("SSEType") == "KMS"
    return encrypted, sse.get("KMSMasterKeyArn") if encrypted else None


def _token(*parts: str) -> str:
    """A deterministic idempotency token: a retried request is recognised as the same one."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


class DynamoDbTablePlugin(ResourcePlugin):
    resource_type = "dynamodb_table"
    arn_service = "dynamodb"
    arn_kind = "table"
    # Exports in flight: AWS allows 300 per account (all regions), not a per-region copy limit.
    max_concurrent_copies = 300
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"tag:GetResources"}),
        PluginOperation.DESCRIBE_SOURCE: frozenset({"dynamodb:DescribeTable"}),
        PluginOperation.SNAPSHOT_QUOTA: frozenset(),
        PluginOperation.CREATE: frozenset(
            {
                "dynamodb:DescribeTable",
                "dynamodb:CreateBackup",
                "dynamodb:ListBackups",
                "s3:ListBucket",
                "s3:CreateBucket",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:PutObject",
                "s3:PutObjectTagging",
            }
        ),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset(
            {
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "dynamodb:DescribeBackup",
                "dynamodb:ListBackups",
                "dynamodb:DescribeExport",
            }
        ),
        # The export writes into the bucket with the caller's permissions, under the DR key.
        PluginOperation.COPY: frozenset(
            {
                "dynamodb:ExportTableToPointInTime",
                "s3:ListBucket",
                "s3:CreateBucket",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:PutObjectAcl",
                "s3:AbortMultipartUpload",
                "kms:GenerateDataKey",
                "kms:Decrypt",
            }
        ),
        PluginOperation.DELETE: frozenset(
            {
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:DeleteObject",
                "dynamodb:DeleteBackup",
                "dynamodb:ListBackups",
            }
        ),
        # A restore writes the items with the caller's data-plane permissions, and an import
        # reads the export (under the DR key) and logs to CloudWatch Logs as the caller.
        PluginOperation.RESTORE: frozenset(
            {
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "dynamodb:RestoreTableFromBackup",
                "dynamodb:ListBackups",
                "dynamodb:ImportTable",
                "dynamodb:DescribeImport",
                "dynamodb:DescribeTable",
                "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource",
                "dynamodb:UpdateTable",
                "dynamodb:BatchWriteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "kms:CreateGrant",
                "kms:DescribeKey",
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:PutRetentionPolicy",
            }
        ),
        PluginOperation.RESTORE_TO_TIME: frozenset(
            {
                "dynamodb:RestoreTableToPointInTime",
                "dynamodb:DescribeTable",
                "dynamodb:ListTagsOfResource",
                "dynamodb:TagResource",
                "dynamodb:UpdateTable",
                "dynamodb:BatchWriteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:DescribeContinuousBackups",
                "kms:CreateGrant",
                "kms:DescribeKey",
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey",
            }
        ),
        PluginOperation.DESCRIBE_RESTORED: frozenset(
            {"dynamodb:DescribeTable", "dynamodb:ListTagsOfResource"}
        ),
        PluginOperation.DELETE_RESTORED: frozenset({"dynamodb:DeleteTable"}),
        PluginOperation.TAG_RESTORED: frozenset({"dynamodb:TagResource"}),
    }

    def _ddb(self, region: str) -> Any:
        return self.clients("dynamodb", region)

    def _s3(self, region: str) -> Any:
        return self.clients("s3", region)

    # --- the source -----------------------------------------------------------------------
    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        """One tag query per page of tagged tables, not a ListTagsOfResource per table."""
        pages = (
            self.clients("resourcegroupstaggingapi", region)
            .get_paginator("get_resources")
            .paginate(ResourceTypeFilters=["dynamodb:table"], TagFilters=[{"Key": tag_key}])
        )
        with translated({}, f"listing DynamoDB tables tagged {tag_key} in {region}"):
            for page in pages:
                for mapping in page["ResourceTagMappingList"]:
                    policy = tag_dict(mapping.get("Tags")).get(tag_key)
                    if policy:
                        yield mapping["ResourceARN"], policy

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        table = self._table(ref.region, ref.name, f"describing {ref.arn}")
        encrypted, key = _kms(table.get("SSEDescription") or {})
        status = table["TableStatus"]
        return SourceSpec(
            region=ref.region,
            # Backed up only when ACTIVE; any other state is waited out (ResourceNotReady).
            status="available" if status == "ACTIVE" else status.lower(),
            encrypted=encrypted,
            kms_key_id=key,
        )

    def _table(self, region: str, name: str, context: str) -> dict[str, Any]:
        with translated(_DYNAMODB_ERRORS, context):
            return dict(self._ddb(region).describe_table(TableName=name)["Table"])

    def _table_tags(self, region: str, arn: str) -> dict[str, str]:
        with translated(_DYNAMODB_ERRORS, f"tags of {arn}"):
            return tag_dict(self._ddb(region).list_tags_of_resource(ResourceArn=arn).get("Tags"))

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """None: DynamoDB has no quota on the number of on-demand backups."""
        return None

    # --- records ------------------------------------------------------------------------
    def _bucket(self, region: str) -> str:
        return bucket_name(self._account(region), region)

    def _get(self, region: str, point: str) -> _Found | None:
        """The record of ``point`` in ``region``, or None (no such object, or no bucket yet)."""
        bucket, key = self._bucket(region), record_key(point)
        try:
            with translated({}, f"record of {point} in {region}"):
                got = self._s3(region).get_object(
                    Bucket=bucket, Key=key, ExpectedBucketOwner=self._account(region)
                )
                body = got["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _NO_OBJECT:
                return None
            raise
        try:
            record = PointRecord.model_validate_json(body)
        except ValidationError as exc:
            raise RecoveryPointConflict(
                f"s3://{bucket}/{key} exists but is not a Lifeboat recovery point record; "
                "refusing to treat it as our recovery point"
            ) from exc
        written = (got.get("Metadata") or {}).get(WRITTEN_TAGS)
        return _Found(record, None if written is None else dict(parse_qsl(written, keep_blank_values=True)))

    def _tags(self, region: str, point: str) -> dict[str, str]:
        """The record object's tags, where a check needs them (and only there: one more call)."""
        with translated({}, f"tags of the record of {point} in {region}"):
            tag_set = self._s3(region).get_object_tagging(
                Bucket=self._bucket(region), Key=record_key(point), ExpectedBucketOwner=self._account(region)
            )["TagSet"]
        return tag_dict(tag_set)

    def _read(self, region: str, point: str) -> tuple[PointRecord, dict[str, str]] | None:
        """The record of ``point`` in ``region`` and its tags, or None: two reads of one object."""
        found = self._get(region, point)
        if found is None:
            return None
        try:
            return found.record, self._tags(region, point)
        except ClientError as exc:
            if error_code(exc) in _NO_OBJECT:
                return None  # deleted between the two reads
            raise

    def _write(self, region: str, record: PointRecord, tags: dict[str, str]) -> None:
        """Put the record (replacing the one this point had)."""
        self._put(region, record, tags, first=False)

    def _write_first(self, region: str, record: PointRecord, tags: dict[str, str]) -> bool:
        """Put the first record of a point: False, and nothing written, when one is there already."""
        return self._put(region, record, tags, first=True)

    def _put(self, region: str, record: PointRecord, tags: dict[str, str], *, first: bool) -> bool:
        """Lifeboat's bucket of the region is created by its first record."""
        bucket, account = self._bucket(region), self._account(region)
        request = {
            "Bucket": bucket,
            "Key": record_key(record.recovery_point_id),
            "Body": record.model_dump_json(by_alias=True).encode(),
            "ContentType": "application/json",
            "ServerSideEncryption": "AES256",
            "Tagging": urlencode(tags),
            "Metadata": {WRITTEN_TAGS: urlencode(tags)},
            "ExpectedBucketOwner": account,
        }
        if first:
            request["IfNoneMatch"] = "*"
        s3 = self._s3(region)
        context = f"recording {record.recovery_point_id} in {region}"

        def put() -> bool:
            try:
                # S3 answers 409 while another conditional write of the key is in flight: retry.
                with translated({"ConditionalRequestConflict": ResourceNotReady}, context):
                    s3.put_object(**request)
            except ClientError as exc:
                if first and error_code(exc) == "PreconditionFailed":
                    return False
                raise
            return True

        try:
            return put()
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucket":
                raise
        create_private_bucket(s3, bucket, account=account, region=region)
        return put()

    def _backup_named(self, region: str, table: str, point: str, since: datetime) -> str | None:
        """The on-demand backup of ``table`` named ``point``: one listing of that table since
        ``since``, used only when a create was interrupted before recording the backup's ARN."""
        pages = (
            self._ddb(region)
            .get_paginator("list_backups")
            .paginate(TableName=table, BackupType="USER", TimeRangeLowerBound=since)
        )
        with translated(_DYNAMODB_ERRORS, f"backups of {table} in {region}"):
            named = [s for page in pages for s in page["BackupSummaries"] if s["BackupName"] == point]
        # Backup names are not unique: the first one started is the point.
        first = min(named, key=lambda s: (s["BackupCreationDateTime"], s["BackupArn"]), default=None)
        return str(first["BackupArn"]) if first else None

    # --- recovery points ---------------------------------------------------------------------
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
        if self._write_first(ref.region, record, tags):
            backup_arn = None
        else:
            found = self._read(ref.region, recovery_point_id)
            if found is None:
                raise ResourceNotReady(
                    f"the record of {recovery_point_id} in {ref.region} changed while read"
                )
            record, recorded_tags = found
            if record.backup_arn or not is_ours(recorded_tags, recovery_point_id):
                raise RecoveryPointExists(recovery_point_id)
            since = record.recorded_at - _CLOCK_SKEW
            backup_arn = self._backup_named(ref.region, ref.name, recovery_point_id, since)
        if backup_arn is None:
            with translated(_DYNAMODB_ERRORS, f"backup {recovery_point_id} of {ref.arn}"):
                created = self._ddb(ref.region).create_backup(
                    TableName=ref.name, BackupName=recovery_point_id
                )
            backup_arn = created["BackupDetails"]["BackupArn"]
        self._write(ref.region, record.model_copy(update={"backup_arn": backup_arn}), tags)

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
        facts = point.facts
        generic = level1_checks(
            facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        checks = [
            Check(name="available", expected="available", actual=facts.status, passed=facts.ready),
            *(c for c in generic if c.name not in _NOT_FOR_TABLES),
            Check(
                name="item_count_recorded",
                expected="an item count",
                actual=point.item_count,
                passed=point.item_count is not None,
            ),
            Check(
                name="size_bytes_recorded",
                expected="a size in bytes",
                actual=point.size_bytes,
                passed=point.size_bytes is not None,
            ),
        ]
        return facts, checks

    def _point(self, region: str, recovery_point_id: str) -> _Point:
        found = self._read(region, recovery_point_id)
        if found is None:
            raise RecoveryPointNotFound(
                f"DynamoDB recovery point {recovery_point_id} in {region}: no record in "
                f"s3://{self._bucket(region)}"
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

    def _backup_point(self, region: str, record: PointRecord, tags: dict[str, str]) -> _Point:
        arn = self._backup_arn(region, record)
        with translated(_DYNAMODB_ERRORS, f"backup {record.recovery_point_id} in {region}"):
            described = self._ddb(region).describe_backup(BackupArn=arn)["BackupDescription"]
        details = described["BackupDetails"]
        encrypted, key = _kms((described.get("SourceTableFeatureDetails") or {}).get("SSEDescription") or {})
        status = str(details["BackupStatus"]).lower()  # creating | available | deleted
        facts = RecoveryPointFacts(
            recovery_point_id=record.recovery_point_id,
            arn=arn,
            region=region,
            status=status,
            ready=status == "available",
            encrypted=encrypted,
            kms_key_id=key,
            tags=tags,
            created_at=details.get("BackupCreationDateTime"),
        )
        item_count = (described.get("SourceTableDetails") or {}).get("ItemCount")
        return _Point(facts, item_count, details.get("BackupSizeBytes"))

    def _export_point(
        self, region: str, record: PointRecord, export_arn: str, tags: dict[str, str]
    ) -> _Point:
        with translated(_DYNAMODB_ERRORS, f"export {record.recovery_point_id} to {region}"):
            export = self._ddb(record.source_region).describe_export(ExportArn=export_arn)[
                "ExportDescription"
            ]
        state = export["ExportStatus"]  # IN_PROGRESS | COMPLETED | FAILED
        if state == "IN_PROGRESS":
            status = "copying"
        elif state == "COMPLETED":
            status = "available"
        else:
            reason = ": ".join(str(export[k]) for k in ("FailureCode", "FailureMessage") if export.get(k))
            status = f"{state.lower()} ({reason})" if reason else state.lower()
        encrypted = export.get("S3SseAlgorithm") == "KMS"
        facts = RecoveryPointFacts(
            recovery_point_id=record.recovery_point_id,
            arn=export_arn,
            region=region,
            status=status,
            ready=state == "COMPLETED",
            encrypted=encrypted,
            kms_key_id=export.get("S3SseKmsKeyId") if encrypted else None,
            tags=tags,
            created_at=export.get("ExportTime"),
        )
        return _Point(facts, export.get("ItemCount"), export.get("BilledSizeBytes"))

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        self._learn_account(ref)
        if self._copied(target_region, recovery_point_id):
            raise RecoveryPointExists(recovery_point_id)
        source = self._get(ref.region, recovery_point_id)
        if source is None or not source.record.backup_arn:
            raise RecoveryPointNotFound(f"{recovery_point_id} in {ref.region}: no backup recorded to copy")
        record = source.record
        tags = source.written_tags
        if tags is None:
            tags = self._tags(ref.region, recovery_point_id)
        request: dict[str, Any] = {
            "TableArn": ref.arn,
            "S3Bucket": self._bucket(target_region),
            "S3BucketOwner": ref.account_id,
            "S3Prefix": recovery_point_id,
            "ExportFormat": "DYNAMODB_JSON",
            "ExportType": "FULL_EXPORT",
            "ClientToken": _token(recovery_point_id, target_region),
            "S3SseAlgorithm": "KMS" if kms_key_id else "AES256",
        }
        if kms_key_id:
            request["S3SseKmsKeyId"] = kms_key_id
        try:
            with translated(
                _EXPORT_ERRORS, f"export of {ref.arn} to {target_region} for {recovery_point_id}"
            ):
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
        self._write(target_region, copy, tags)

    def _copied(self, region: str, point: str) -> bool:
        """Whether ``region`` has a record of ``point`` (a retried copy): one read, which also
        creates Lifeboat's bucket there, private, at its first use (an export needs it)."""
        bucket, account = self._bucket(region), self._account(region)
        s3 = self._s3(region)
        try:
            with translated({}, f"record of {point} in {region}"):
                # GetObject, not HeadObject: a HEAD's 404 does not say whether the bucket is missing.
                s3.get_object(Bucket=bucket, Key=record_key(point), ExpectedBucketOwner=account)
        except ClientError as exc:
            # 403: the name belongs to another account; never write there (seen as itself).
            if error_code(exc) not in _NO_OBJECT:
                raise
            if error_code(exc) == "NoSuchBucket":
                create_private_bucket(s3, bucket, account=account, region=region)
            return False
        return True

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """Delete the backup (or the export's objects), then the record that names it."""
        found = self._get(region, recovery_point_id)
        if found is None:
            raise RecoveryPointNotFound(f"DynamoDB recovery point {recovery_point_id} in {region}: no record")
        record = found.record
        if record.export_arn:
            self._delete_objects(region, f"{recovery_point_id}/", keep=record_key(recovery_point_id))
        else:
            try:
                arn = self._backup_arn(region, record)
                with translated(_DYNAMODB_ERRORS, f"deleting backup {recovery_point_id} in {region}"):
                    self._ddb(region).delete_backup(BackupArn=arn)
            except RecoveryPointNotFound:
                pass  # already gone: only the record is left to delete
        with translated({}, f"deleting the record of {recovery_point_id} in {region}"):
            self._s3(region).delete_object(
                Bucket=self._bucket(region),
                Key=record_key(recovery_point_id),
                ExpectedBucketOwner=self._account(region),
            )

    def _delete_objects(self, region: str, prefix: str, *, keep: str) -> None:
        s3, bucket, account = self._s3(region), self._bucket(region), self._account(region)
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=account
        )
        with translated({}, f"deleting s3://{bucket}/{prefix}"):
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] != keep]
                if not keys:
                    continue
                result = s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": keys, "Quiet": True}, ExpectedBucketOwner=account
                )
                if result.get("Errors"):
                    raise ResourceNotReady(
                        f"could not delete {len(result['Errors'])} objects under s3://{bucket}/{prefix}: "
                        f"{result['Errors'][0].get('Code')}"
                    )

    # --- restores -------------------------------------------------------------------------
    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """A table has no network settings; a restore inherits its tags."""
        return RestoreNetwork(), self._table_tags(ref.region, ref.arn)

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        found = self._get(spec.region, recovery_point_id)
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
            with translated(_RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
                table = self._ddb(spec.region).restore_table_from_backup(
                    TargetTableName=spec.target_id, BackupArn=backup_arn
                )["TableDescription"]
        except ClientError as exc:
            if error_code(exc) in _TARGET_EXISTS:
                self._resume(spec, lambda summary: summary.get("SourceBackupArn") == backup_arn)
                raise RestoreTargetExists(spec.target_id) from exc
            raise
        self._finish(spec, table["TableArn"])

    def _import(self, record: PointRecord, export_arn: str, spec: RestoreSpec) -> None:
        """Restore a DR copy: import its export into a new table, encrypted with the copy's key.

        On demand capacity; local secondary indexes cannot be created by an import (AWS).
        """
        export_id = export_arn.rsplit("/", 1)[-1]
        parameters: dict[str, Any] = {
            "TableName": spec.target_id,
            "KeySchema": record.key_schema,
            "AttributeDefinitions": record.attribute_definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if record.global_secondary_indexes:
            parameters["GlobalSecondaryIndexes"] = record.global_secondary_indexes
        if record.kms_key_id:
            parameters["SSESpecification"] = {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": record.kms_key_id,
            }
        request = {
            "S3BucketSource": {
                "S3Bucket": self._bucket(spec.region),
                "S3BucketOwner": self._account(spec.region),
                "S3KeyPrefix": f"{record.recovery_point_id}/AWSDynamoDB/{export_id}/data/",
            },
            "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": "GZIP",
            "TableCreationParameters": parameters,
            # A retried step gets back the import it started (AWS keeps the token for 8 hours).
            "ClientToken": _token(record.recovery_point_id, spec.region, spec.target_id),
        }
        with translated(
            _RESTORE_ERRORS | dict.fromkeys(_TARGET_EXISTS, RestoreTargetExists),
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
            with translated(_RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region} to {at}"):
                table = self._ddb(spec.region).restore_table_to_point_in_time(
                    SourceTableName=ref.name, TargetTableName=spec.target_id, RestoreDateTime=at
                )["TableDescription"]
        except ClientError as exc:
            if error_code(exc) in _TARGET_EXISTS:
                self._resume(
                    spec, lambda s: s.get("SourceTableArn") == ref.arn and not s.get("SourceBackupArn")
                )
                raise RestoreTargetExists(spec.target_id) from exc
            raise
        self._finish(spec, table["TableArn"])

    def _finish(self, spec: RestoreSpec, table_arn: str) -> None:
        """Tags and deletion protection: DynamoDB's restores and imports take neither."""
        context = f"tagging the restored table {spec.target_id} in {spec.region}"
        with translated(_NOT_YET_TAGGABLE, context):
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
        with translated(_DYNAMODB_ERRORS, f"point-in-time recovery of {ref.arn}"):
            described = self._ddb(ref.region).describe_continuous_backups(TableName=ref.name)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription") or {}
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            return None
        return RestoreWindow(
            earliest=pitr["EarliestRestorableDateTime"], latest=pitr["LatestRestorableDateTime"]
        )

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        table = self._table(region, identifier, f"describing {identifier} in {region}")
        encrypted, key = _kms(table.get("SSEDescription") or {})
        status = table["TableStatus"]
        restoring = bool((table.get("RestoreSummary") or {}).get("RestoreInProgress"))
        return RestoredFacts(
            identifier=identifier,
            arn=table["TableArn"],
            region=region,
            status=status.lower(),
            ready=status == "ACTIVE" and not restoring,
            failed=status in _FAILED_TABLE_STATUSES,
            encrypted=encrypted,
            kms_key_id=key,
            deletion_protection=table.get("DeletionProtectionEnabled"),
            tags=self._table_tags(region, table["TableArn"]),
        )

    def _delete_restored(self, region: str, identifier: str) -> None:
        with translated(
            _DYNAMODB_ERRORS | {"ResourceInUseException": ResourceNotReady}, f"deleting {identifier}"
        ):
            self._ddb(region).delete_table(TableName=identifier)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(_DYNAMODB_ERRORS, f"tagging {restored.arn}"):
            self._ddb(restored.region).tag_resource(ResourceArn=restored.arn, Tags=tag_list(tags))
