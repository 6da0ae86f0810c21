"""Lifeboat's record of each DynamoDB recovery point: one JSON object per point and region.

``s3://lifeboat-dynamodb-<account>-<region>/<id>/lifeboat-recovery-point.json`` names the backup
or the export (AWS chooses their ARNs), keeps what an import needs, and carries the point's tags
(backups take none). A point is found by reading that one object, never by listing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from lifeboat.aws.buckets import create_private_bucket
from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict
from lifeboat.errors import RecoveryPointConflict, ResourceNotReady

__all__ = ["BUCKET_PREFIX", "FoundRecord", "PointRecord", "RecordStore", "bucket_name", "record_key"]

BUCKET_PREFIX = "lifeboat-dynamodb"
RECORD_NAME = "lifeboat-recovery-point.json"
# User metadata of a record: the tags it was written with, returned by GetObject, so a copy carries
# them without a GetObjectTagging. The object's tags stay the authority (validation, cleanup and
# legal holds read them); metadata, unlike the JSON, is ignored by a Lifeboat that predates it.
WRITTEN_TAGS = "lifeboat-tags"
_NO_OBJECT = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


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


class FoundRecord(NamedTuple):
    """A record as read: ``written_tags`` are the tags it was written with (its metadata), None
    for a record written before Lifeboat kept them there."""

    record: PointRecord
    written_tags: dict[str, str] | None


def bucket_name(account_id: str, region: str) -> str:
    """Lifeboat's bucket of a region: exports of DR copies and the records of every point."""
    return f"{BUCKET_PREFIX}-{account_id}-{region}"


def record_key(recovery_point_id: str) -> str:
    return f"{recovery_point_id}/{RECORD_NAME}"


class RecordStore:
    """The records of one step: in Lifeboat's bucket of each region, created by its first record."""

    def __init__(self, clients: ClientProvider, account: Callable[[str], str]) -> None:
        self._clients = clients
        self._account = account

    def _s3(self, region: str) -> Any:
        return self._clients("s3", region)

    def bucket(self, region: str) -> str:
        """Lifeboat's bucket of ``region``."""
        return bucket_name(self._account(region), region)

    def get(self, region: str, point: str) -> FoundRecord | None:
        """The record of ``point`` in ``region``, or None (no such object, or no bucket yet)."""
        bucket, key = self.bucket(region), record_key(point)
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
        return FoundRecord(
            record, None if written is None else dict(parse_qsl(written, keep_blank_values=True))
        )

    def tags(self, region: str, point: str) -> dict[str, str]:
        """The record object's tags, where a check needs them (and only there: one more call)."""
        with translated({}, f"tags of the record of {point} in {region}"):
            tag_set = self._s3(region).get_object_tagging(
                Bucket=self.bucket(region), Key=record_key(point), ExpectedBucketOwner=self._account(region)
            )["TagSet"]
        return tag_dict(tag_set)

    def read(self, region: str, point: str) -> tuple[PointRecord, dict[str, str]] | None:
        """The record of ``point`` in ``region`` and its tags, or None: two reads of one object."""
        found = self.get(region, point)
        if found is None:
            return None
        try:
            return found.record, self.tags(region, point)
        except ClientError as exc:
            if error_code(exc) in _NO_OBJECT:
                return None  # deleted between the two reads
            raise

    def write(self, region: str, record: PointRecord, tags: dict[str, str]) -> None:
        """Put the record (replacing the one this point had)."""
        self._put(region, record, tags, first=False)

    def write_first(self, region: str, record: PointRecord, tags: dict[str, str]) -> bool:
        """Put the first record of a point: False, and nothing written, when one is there already."""
        return self._put(region, record, tags, first=True)

    def _put(self, region: str, record: PointRecord, tags: dict[str, str], *, first: bool) -> bool:
        """Lifeboat's bucket of the region is created by its first record."""
        bucket, account = self.bucket(region), self._account(region)
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

    def exists(self, region: str, point: str) -> bool:
        """Whether ``region`` has a record of ``point`` (a retried copy): one read, which also
        creates Lifeboat's bucket there, private, at its first use (an export needs it)."""
        bucket, account = self.bucket(region), self._account(region)
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

    def delete_objects(self, region: str, prefix: str, *, keep: str) -> None:
        s3, bucket, account = self._s3(region), self.bucket(region), self._account(region)
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

    def delete_record(self, region: str, point: str) -> None:
        with translated({}, f"deleting the record of {point} in {region}"):
            self._s3(region).delete_object(
                Bucket=self.bucket(region), Key=record_key(point), ExpectedBucketOwner=self._account(region)
            )
