"""The export and import requests of a DynamoDB DR copy, each with a deterministic token so a
retried step gets back what the first attempt started (AWS keeps a token for 8 hours)."""

from __future__ import annotations

import hashlib
from typing import Any

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.restore import RestoreSpec
from lifeboat.plugins.dynamodb.records import PointRecord

__all__ = ["export_request", "import_request"]


def _token(*parts: str) -> str:
    """A deterministic idempotency token: a retried request is recognised as the same one."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def export_request(
    ref: ResourceRef, recovery_point_id: str, target_region: str, bucket: str, kms_key_id: str | None
) -> dict[str, Any]:
    """``ExportTableToPointInTime`` into Lifeboat's bucket of the DR region, under its key."""
    request: dict[str, Any] = {
        "TableArn": ref.arn,
        "S3Bucket": bucket,
        "S3BucketOwner": ref.account_id,
        "S3Prefix": recovery_point_id,
        "ExportFormat": "DYNAMODB_JSON",
        "ExportType": "FULL_EXPORT",
        "ClientToken": _token(recovery_point_id, target_region),
        "S3SseAlgorithm": "KMS" if kms_key_id else "AES256",
    }
    if kms_key_id:
        request["S3SseKmsKeyId"] = kms_key_id
    return request


def import_request(
    record: PointRecord, export_arn: str, spec: RestoreSpec, bucket: tuple[str, str]
) -> dict[str, Any]:
    """``ImportTable`` of a DR copy's export into a new table, encrypted with the copy's key;
    ``bucket`` is (name, owner). On demand capacity; an import cannot create local secondary
    indexes (AWS)."""
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
    name, owner = bucket
    return {
        "S3BucketSource": {
            "S3Bucket": name,
            "S3BucketOwner": owner,
            "S3KeyPrefix": f"{record.recovery_point_id}/AWSDynamoDB/{export_id}/data/",
        },
        "InputFormat": "DYNAMODB_JSON",
        "InputCompressionType": "GZIP",
        "TableCreationParameters": parameters,
        "ClientToken": _token(record.recovery_point_id, spec.region, spec.target_id),
    }
