"""Lifeboat's S3 bucket of each region for ElastiCache: snapshot exports, DR copies' .rdb files.

A DR copy is a point's files under ``<point>/`` in the DR region's bucket, copied by S3 across
regions under that region's key, tagged and carrying what a restore needs as metadata. A file
above one part is copied in parts, in parallel, pinned to its source by ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from lifeboat.aws.buckets import create_private_bucket
from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict
from lifeboat.errors import ResourceNotReady

__all__ = [
    "BUCKET_PREFIX",
    "ELASTICACHE_CANONICAL_ID",
    "PART_BYTES",
    "DrCopy",
    "RdbBuckets",
    "bucket_name",
    "copy_prefix",
    "s3_arn",
]

BUCKET_PREFIX = "lifeboat-elasticache"
# ElastiCache's canonical user in the regions enabled by default (AWS's "Exporting a backup" and
# "Seeding a new cluster" guides). GovCloud and China have their own; in an opt-in region
# ElastiCache needs a bucket policy instead, which an operator adds (README).
ELASTICACHE_CANONICAL_ID = "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353"
# What a restore in a DR region needs from the snapshot, kept on each copied .rdb file.
META_ENGINE, META_VERSION, META_NODE_TYPE = "lifeboat-engine", "lifeboat-engine-version", "lifeboat-node-type"
META_SHARDS, META_BYTES, META_SNAPSHOT = "lifeboat-shards", "lifeboat-export-bytes", "lifeboat-snapshot-arn"
# Files above one part are copied in parts, in parallel (CopyObject stops at 5 GB; S3 allows
# 10,000 parts per object).
PART_BYTES = 256 * 1024 * 1024
MAX_PARTS = 10_000
COPY_THREADS = 8
# A copy step that died mid-file leaves an unfinished upload: S3 aborts it after this many days
# (a retried step aborts it at once).
ABANDONED_UPLOAD_DAYS = 7

# What a restore in a DR region needs from the snapshot, kept on each copied .rdb file.
META_ENGINE, META_VERSION, META_NODE_TYPE = "lifeboat-engine", "lifeboat-engine-version", "lifeboat-node-type"
META_SHARDS, META_BYTES, META_SNAPSHOT = "lifeboat-shards", "lifeboat-export-bytes", "lifeboat-snapshot-arn"
_NO_BUCKET = frozenset({"NoSuchBucket", "404"})


def bucket_name(account_id: str, region: str) -> str:
    """Lifeboat's bucket of a region: exports of the region's snapshots, DR copies of others."""
    return f"{BUCKET_PREFIX}-{account_id}-{region}"


def copy_prefix(recovery_point_id: str) -> str:
    """Where a DR copy's files are; an export's files are ``<point>-0001.rdb``... at the top."""
    return f"{recovery_point_id}/"


def _sse(kms_key_id: str | None) -> dict[str, str]:
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def s3_arn(partition: str, bucket: str, key: str) -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


class DrCopy(NamedTuple):
    """A point's copy in a DR region: its .rdb files (HeadObject, with ``Key``) and tags."""

    bucket: str
    files: list[dict[str, Any]]
    tags: dict[str, str]

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.files[0].get("Metadata") or {})

    @property
    def shards(self) -> int:
        return int(self.metadata.get(META_SHARDS) or 0)

    @property
    def complete(self) -> bool:
        """Every shard's file is there, each as large as the export it was copied from."""
        whole = all(str(f["ContentLength"]) == (f.get("Metadata") or {}).get(META_BYTES) for f in self.files)
        return len(self.files) == self.shards and whole

    @property
    def partition(self) -> str:
        return self.metadata.get(META_SNAPSHOT, "arn:aws").split(":")[1]


class RdbBuckets:
    """One step's view of Lifeboat's buckets: the buckets a listing found need no set-up call."""

    def __init__(self, clients: ClientProvider, account: Callable[[str], str]) -> None:
        self._clients = clients
        self._account = account
        self._listed_buckets: set[str] = set()

    def _s3(self, region: str) -> Any:
        return self._clients("s3", region)

    def bucket(self, region: str) -> str:
        """Lifeboat's bucket of ``region``."""
        return bucket_name(self._account(region), region)

    def copy_file(
        self,
        source_region: str,
        file: dict[str, Any],
        target_region: str,
        key: str,
        *,
        kms_key_id: str | None,
        tags: dict[str, str],
        metadata: dict[str, str],
    ) -> None:
        """One S3 copy across regions, tags and key set with the object (never an untagged copy).

        Above one part, a multipart copy: parts in parallel, the source pinned by its ETag; an
        unfinished upload of the key (a crashed attempt) is aborted first.
        """
        s3, bucket, account = (
            self._s3(target_region),
            self.bucket(target_region),
            self._account(target_region),
        )
        size, etag = int(file["Size"]), str(file["ETag"])
        source = {"Bucket": self.bucket(source_region), "Key": file["Key"]}
        owners = {"ExpectedBucketOwner": account, "ExpectedSourceBucketOwner": account}
        target = {
            "Bucket": bucket,
            "Key": key,
            "Metadata": metadata,
            "Tagging": urlencode(tags),
            # ElastiCache reads the file as its canonical user when it seeds a group from it.
            "GrantRead": f'id="{ELASTICACHE_CANONICAL_ID}"',
            "GrantReadACP": f'id="{ELASTICACHE_CANONICAL_ID}"',
            "ExpectedBucketOwner": account,
            **_sse(kms_key_id),
        }
        context = f"copying s3://{source['Bucket']}/{file['Key']} to s3://{bucket}/{key}"
        if size <= PART_BYTES:
            with translated({}, context):
                s3.copy_object(
                    CopySource=source,
                    CopySourceIfMatch=etag,
                    MetadataDirective="REPLACE",
                    TaggingDirective="REPLACE",
                    ExpectedSourceBucketOwner=account,
                    **target,
                )
            return
        self.abort_uploads(target_region, key)
        part = max(PART_BYTES, -(-size // MAX_PARTS))
        with translated({}, context):
            upload = s3.create_multipart_upload(**target)["UploadId"]

        def copy_part(number: int) -> dict[str, Any]:
            first = (number - 1) * part
            copied = s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={first}-{min(first + part, size) - 1}",
                CopySourceIfMatch=etag,
                **owners,
            )
            return {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}

        try:
            with translated({}, context), ThreadPoolExecutor(COPY_THREADS) as pool:
                parts = list(pool.map(copy_part, range(1, -(-size // part) + 1)))
                s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    ExpectedBucketOwner=account,
                )
        except BaseException:
            self.abort_uploads(target_region, key)
            raise

    def dr_copy(self, region: str, recovery_point_id: str) -> DrCopy | None:
        """The point's files in Lifeboat's bucket of ``region``, or None: one listing, then each
        file's HeadObject and the first file's tags."""
        listed = self.objects(region, copy_prefix(recovery_point_id))
        if not listed:
            return None
        s3, bucket, owner = self._s3(region), self.bucket(region), self._account(region)
        with translated({}, f"copy of {recovery_point_id} in s3://{bucket}"):
            files = [
                s3.head_object(Bucket=bucket, Key=o["Key"], ExpectedBucketOwner=owner) | {"Key": o["Key"]}
                for o in listed
            ]
            tag_set = s3.get_object_tagging(Bucket=bucket, Key=listed[0]["Key"], ExpectedBucketOwner=owner)
        return DrCopy(bucket, files, tag_dict(tag_set["TagSet"]))

    def objects(self, region: str, prefix: str) -> list[dict[str, Any]]:
        """Objects under ``prefix`` in Lifeboat's bucket of ``region`` ([] without the bucket)."""
        bucket = self.bucket(region)
        pages = (
            self._s3(region)
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=self._account(region))
        )
        try:
            with translated({}, f"listing s3://{bucket}/{prefix}"):
                listed = [o for page in pages for o in page.get("Contents", [])]
        except ClientError as exc:
            if error_code(exc) in _NO_BUCKET:
                return []
            raise
        self._listed_buckets.add(bucket)
        return listed

    def ensure_bucket(self, region: str) -> None:
        """Create Lifeboat's bucket of ``region`` unless this step's listing found it: private,
        ACLs on for ElastiCache (each caller lists the bucket first, so no extra call to ask).

        AWS requires an export's bucket to grant ElastiCache's canonical user READ (list objects),
        WRITE and READ_ACP; a seed's files grant it READ and READ_ACP (set per file on copy).
        """
        s3, bucket, account = self._s3(region), self.bucket(region), self._account(region)
        if bucket in self._listed_buckets:
            return
        create_private_bucket(s3, bucket, account=account, region=region, acls=True)
        owned = {"Bucket": bucket, "ExpectedBucketOwner": account}
        with translated({}, f"granting ElastiCache access to {bucket}"):
            owner = s3.get_bucket_acl(**owned)["Owner"]
            elasticache = {"Type": "CanonicalUser", "ID": ELASTICACHE_CANONICAL_ID}
            s3.put_bucket_acl(
                AccessControlPolicy={
                    "Owner": owner,
                    "Grants": [
                        {
                            "Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                            "Permission": "FULL_CONTROL",
                        },
                        *({"Grantee": elasticache, "Permission": p} for p in ("READ", "WRITE", "READ_ACP")),
                    ],
                },
                **owned,
            )
            s3.put_bucket_lifecycle_configuration(
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "abort-abandoned-copies",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABANDONED_UPLOAD_DAYS},
                        }
                    ]
                },
                **owned,
            )

    def abort_uploads(self, region: str, prefix: str) -> None:
        """Abort unfinished multipart copies under ``prefix`` (a crashed attempt's)."""
        s3, bucket, account = self._s3(region), self.bucket(region), self._account(region)
        with translated({}, f"unfinished uploads under s3://{bucket}/{prefix}"):
            pending = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=account)
            for upload in pending.get("Uploads", []):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"], ExpectedBucketOwner=account
                )

    def delete_files(self, region: str, keys: list[str]) -> None:
        if not keys:
            return
        s3, bucket, account = self._s3(region), self.bucket(region), self._account(region)
        with translated({}, f"deleting {len(keys)} files from s3://{bucket}"):
            result = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
                ExpectedBucketOwner=account,
            )
        if result.get("Errors"):
            first = result["Errors"][0].get("Code")
            raise ResourceNotReady(
                f"could not delete {len(result['Errors'])} files from s3://{bucket}: {first}"
            )
