"""What DynamoDB's answers say: a table's encryption, a backup's or export's facts, a restored
table, and the level-1 checks a table's recovery point can answer."""

from __future__ import annotations

from typing import Any, NamedTuple

from lifeboat.domain.recovery import Check, RecoveryPointFacts, SourceSpec, level1_checks
from lifeboat.domain.restore import RestoredFacts
from lifeboat.plugins.dynamodb.records import PointRecord

__all__ = ["Point", "backup_point", "export_point", "kms", "restored_facts", "table_checks"]

# Level-1 checks a table replaces: "available" is restated with the status (a failed export
# says why); a table has no engine; and DynamoDB reports a table's size only approximately
# (refreshed about every six hours), so a size in GiB cannot be matched against the source.
_NOT_FOR_TABLES = frozenset({"available", "engine", "size_gib"})
# A table in these states will not serve reads without a person (lost access to its key).
_FAILED_TABLE_STATUSES = frozenset({"INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVED"})


class Point(NamedTuple):
    facts: RecoveryPointFacts
    item_count: int | None
    size_bytes: int | None


def kms(sse: dict[str, Any]) -> tuple[bool, str | None]:
    """(encrypted under a KMS key, key ARN); a table under the AWS owned key reports neither."""
    encrypted = sse.get("Status") in ("ENABLED", "UPDATING") and sse.get("SSEType") == "KMS"
    return encrypted, sse.get("KMSMasterKeyArn") if encrypted else None


def backup_point(
    described: dict[str, Any], record: PointRecord, arn: str, region: str, tags: dict[str, str]
) -> Point:
    """A point in the table's region, from ``DescribeBackup``."""
    details = described["BackupDetails"]
    encrypted, key = kms((described.get("SourceTableFeatureDetails") or {}).get("SSEDescription") or {})
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
    return Point(facts, item_count, details.get("BackupSizeBytes"))


def export_point(
    export: dict[str, Any], record: PointRecord, export_arn: str, region: str, tags: dict[str, str]
) -> Point:
    """A DR copy, from ``DescribeExport``: a failed export says why in its status."""
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
    return Point(facts, export.get("ItemCount"), export.get("BilledSizeBytes"))


def table_checks(
    point: Point, source: SourceSpec, *, expected_kms_key_id: str | None, expected_tags: dict[str, str]
) -> list[Check]:
    """Available, encrypted with the right key, tags, and the item count and size AWS recorded
    for the point (the evidence of what it holds)."""
    facts = point.facts
    generic = level1_checks(
        facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
    )
    return [
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


def restored_facts(
    table: dict[str, Any], region: str, identifier: str, tags: dict[str, str]
) -> RestoredFacts:
    """A restored table: ready once ACTIVE with its restore finished."""
    encrypted, key = kms(table.get("SSEDescription") or {})
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
        tags=tags,
    )
