"""Lifeboat's own S3 buckets (one per account and region, for DR copies and records)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated

_NO_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def create_private_bucket(s3: Any, bucket: str, *, account: str, region: str, acls: bool = False) -> None:
    """Create ``bucket`` in ``region`` (one this account already owns is fine) and block every
    public access. ``acls`` keeps ACLs in force (``BucketOwnerPreferred``), for services such as
    ElastiCache that are granted access by ACL; otherwise S3's default disables them.

    A name owned by another account fails here (``BucketAlreadyExists``), and every later call
    passes ``ExpectedBucketOwner``: Lifeboat never writes into a bucket it does not own.
    """
    request: dict[str, Any] = {"Bucket": bucket}
    if acls:
        request["ObjectOwnership"] = "BucketOwnerPreferred"
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        with translated({}, f"creating bucket {bucket}"):
            s3.create_bucket(**request)
    except ClientError as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise
    with translated({}, f"blocking public access to {bucket}"):
        s3.put_public_access_block(
            Bucket=bucket, ExpectedBucketOwner=account, PublicAccessBlockConfiguration=_NO_PUBLIC_ACCESS
        )
