"""What DynamoDB's error codes mean to Lifeboat: the error types a workflow retries or catches."""

from __future__ import annotations

from lifeboat.errors import (
    InvalidInput,
    LifeboatError,
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
)

__all__ = ["DYNAMODB_ERRORS", "EXPORT_ERRORS", "NOT_YET_TAGGABLE", "RESTORE_ERRORS", "TARGET_EXISTS"]

DYNAMODB_ERRORS: dict[str, type[LifeboatError]] = {
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
EXPORT_ERRORS = DYNAMODB_ERRORS | {
    # At most 300 exports in flight per account: CopyToRegion retries this one.
    "LimitExceededException": SnapshotQuotaExceeded,
    "ExportConflictException": RecoveryPointConflict,
    "IdempotentParameterMismatchException": RecoveryPointConflict,
}
RESTORE_ERRORS = DYNAMODB_ERRORS | {
    "PointInTimeRecoveryUnavailableException": InvalidInput,
    "InvalidRestoreTimeException": InvalidInput,
    "ImportConflictException": InvalidInput,
}
# DynamoDB refuses tags and settings on a table it is still creating (a restore, an import).
NOT_YET_TAGGABLE = {
    "ResourceNotFoundException": ResourceNotReady,
    "ResourceInUseException": ResourceNotReady,
}
TARGET_EXISTS = frozenset({"TableAlreadyExistsException", "ResourceInUseException"})
