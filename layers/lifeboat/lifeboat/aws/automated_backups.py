"""RDS automated backups replicated to another region: what makes a point-in-time restore of an
instance possible in its DR region (``RestoreDBInstanceToPointInTime`` with
``SourceDBInstanceAutomatedBackupsArn`` there) while its own region is down.

Replication is started in the destination region; the source instance then lists it under
``DBInstanceAutomatedBackupsReplications`` (so discovery's pages say where it replicates, at no
extra call), and the destination's ``DescribeDBInstanceAutomatedBackups`` gives its
``RestoreWindow``: how far behind now a restore there reaches is the RPO it gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import KmsKeyNotUsable, ResourceNotFound, ResourceNotReady

_ERRORS = {
    "DBInstanceNotFound": ResourceNotFound,
    "DBInstanceNotFoundFault": ResourceNotFound,
    "InvalidDBInstanceState": ResourceNotReady,
    "InvalidDBInstanceStateFault": ResourceNotReady,
    "KMSKeyNotAccessibleFault": KmsKeyNotUsable,
}


class _AlreadyReplicating(Exception):
    """Already replicating there: the request's goal holds."""


_START_ERRORS = _ERRORS | dict.fromkeys(
    ("DBInstanceAutomatedBackupAlreadyExists", "DBInstanceAutomatedBackupAlreadyExistsFault"),
    _AlreadyReplicating,
)


def replicated_to(instance: dict[str, Any]) -> tuple[str, ...]:
    """Regions a described instance replicates its automated backups to (from their ARNs)."""
    replications = instance.get("DBInstanceAutomatedBackupsReplications") or []
    return tuple(sorted({r["DBInstanceAutomatedBackupsArn"].split(":")[3] for r in replications}))


def start_replication(
    clients: ClientProvider, source_arn: str, region: str, retention_days: int, kms_key_id: str | None
) -> None:
    """Replicate ``source_arn``'s automated backups to ``region`` (called there; boto3 signs the
    source region's request from ``SourceRegion``). An encrypted source needs the DR key."""
    request: dict[str, Any] = {
        "SourceDBInstanceArn": source_arn,
        "BackupRetentionPeriod": retention_days,
        "SourceRegion": ResourceRef.parse(source_arn).region,
    }
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    client = clients("rds", region)
    try:
        with translated(_START_ERRORS, f"replicating automated backups of {source_arn} to {region}"):
            client.start_db_instance_automated_backups_replication(**request)
    except _AlreadyReplicating:
        return


def newest_restorable(clients: ClientProvider, regions: Iterable[str]) -> dict[tuple[str, str], datetime]:
    """(source instance ARN, region) -> the newest time a restore from its replicated automated
    backups reaches there: one paginated describe per region, whatever the fleet size."""
    found: dict[tuple[str, str], datetime] = {}
    for region in sorted(set(regions)):
        pages = clients("rds", region).get_paginator("describe_db_instance_automated_backups").paginate()
        with translated(_ERRORS, f"listing replicated automated backups in {region}"):
            for page in pages:
                for backup in page["DBInstanceAutomatedBackups"]:
                    latest = (backup.get("RestoreWindow") or {}).get("LatestTime")
                    arn = backup.get("DBInstanceArn", "")
                    if latest is not None and arn and ResourceRef.parse(arn).region != region:
                        found[(arn, region)] = latest
    return found


class ReplicatedBackups(NamedTuple):
    """An instance's automated backups replicated into one region, as that region describes them."""

    arn: str  # DBInstanceAutomatedBackupsArn: what a restore there names
    earliest: datetime
    latest: datetime
    encrypted: bool
    kms_key_id: str | None
    engine: str | None


def replicated_backups(clients: ClientProvider, source_arn: str, region: str) -> ReplicatedBackups | None:
    """``source_arn``'s automated backups replicated into ``region`` with a restore window there
    (asked of ``region`` only: the source's own region may be down); None when there are none."""
    pages = clients("rds", region).get_paginator("describe_db_instance_automated_backups").paginate()
    with translated(_ERRORS, f"describing replicated automated backups of {source_arn} in {region}"):
        for page in pages:
            for backup in page["DBInstanceAutomatedBackups"]:
                window = backup.get("RestoreWindow") or {}
                if backup.get("DBInstanceArn") == source_arn and window.get("LatestTime"):
                    return ReplicatedBackups(
                        arn=backup["DBInstanceAutomatedBackupsArn"],
                        earliest=window.get("EarliestTime") or window["LatestTime"],
                        latest=window["LatestTime"],
                        encrypted=bool(backup.get("Encrypted")),
                        kms_key_id=backup.get("KmsKeyId"),
                        engine=backup.get("Engine"),
                    )
    return None
