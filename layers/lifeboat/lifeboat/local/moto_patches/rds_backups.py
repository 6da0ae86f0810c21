"""Cross-region replication of RDS automated backups in moto, answered as AWS does.

moto 5.2.5 has no ``StartDBInstanceAutomatedBackupsReplication``, and its
``DescribeDBInstanceAutomatedBackups`` lists only a region's own automated snapshots, without a
``RestoreWindow``. Added here: the start request (called in the destination region) checks the
source exists with automated backups on and that an encrypted source names a KMS key, records
the replication on the source (``DBInstanceAutomatedBackupsReplications``) and in the destination,
where the describe lists it with its window. ``RestoreDBInstanceToPointInTime`` with
``SourceDBInstanceAutomatedBackupsArn`` restores from them in the destination region (moto knows
only a source in the same region), encrypted with the replicated backups' key. AWS ships
transaction logs every few minutes; moto's source reaches "now" at every describe, and so does
its replica here.
``tests/unit/test_moto_automated_backups.py`` holds Lifeboat's request to botocore's model.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_rds_backups"]

_REPLICATED = "_lifeboat_replicated_backups"  # on a destination backend: source ARN -> record


def _replicated(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, _REPLICATED):
        setattr(backend, _REPLICATED, {})
    found: dict[str, dict[str, Any]] = getattr(backend, _REPLICATED)
    return found


def _start(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import DBInstanceNotFoundError, RDSClientError
    from moto.rds.models import rds_backends

    params = self.params
    source_arn = params["SourceDBInstanceArn"]
    _, _, _, source_region, account, _, name = source_arn.split(":", 6)
    source = rds_backends[account][source_region].databases.get(name)
    if source is None:
        raise DBInstanceNotFoundError(name)
    if not int(source.backup_retention_period or 0):
        raise RDSClientError(
            "InvalidDBInstanceState", f"{name} has no automated backups to replicate (retention 0)."
        )
    if source.storage_encrypted and not params.get("KmsKeyId"):
        raise RDSClientError("KMSKeyNotAccessibleFault", f"{name} is encrypted: KmsKeyId is required.")
    records = _replicated(self.backend)
    if source_arn in records:
        raise RDSClientError(
            "DBInstanceAutomatedBackupAlreadyExists", f"{name} already replicates to {self.region}."
        )
    arn = f"arn:aws:rds:{self.region}:{account}:auto-backup:ab-lifeboat-{name}"
    records[source_arn] = {
        "DBInstanceArn": source_arn,
        "DBInstanceIdentifier": name,
        "Region": source_region,
        "Status": "replicating",
        "Engine": source.engine,
        "Encrypted": bool(source.storage_encrypted),
        "KmsKeyId": _key_arn(account, self.region, params.get("KmsKeyId")),
        "BackupRetentionPeriod": int(params.get("BackupRetentionPeriod") or source.backup_retention_period),
        "DBInstanceAutomatedBackupsArn": arn,
        "InstanceCreateTime": getattr(source, "created", None),
    }
    replications = getattr(source, "db_instance_automated_backups_replications", None) or []
    source.db_instance_automated_backups_replications = [
        *replications,
        {"DBInstanceAutomatedBackupsArn": arn},
    ]
    return ActionResult({"DBInstanceAutomatedBackup": _answer(records[source_arn], source)})


def _key_arn(account: str, region: str, key: str | None) -> str | None:
    """The key's ARN, as AWS reports a replicated backup's key whatever id or alias was asked."""
    from moto.kms.models import kms_backends

    if not key:
        return None
    try:
        return str(kms_backends[account][region].describe_key(key).arn)
    except (KeyError, TypeError, AttributeError):  # unknown: AWS would refuse it, moto checks no key
        return key


def _answer(record: dict[str, Any], source: Any) -> dict[str, Any]:
    latest = source.latest_restorable_time if source is not None else None
    window = {"EarliestTime": record.get("InstanceCreateTime"), "LatestTime": latest}
    return record | {"RestoreWindow": {k: v for k, v in window.items() if v is not None}}


def _describe(original: Any) -> Any:
    def describe_db_instance_automated_backups(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.rds.models import rds_backends

        answer = original(self)
        records = _replicated(self.backend)
        if not records:
            return answer
        replicated = [
            _answer(
                record,
                rds_backends[arn.split(":")[4]][record["Region"]].databases.get(
                    record["DBInstanceIdentifier"]
                ),
            )
            for arn, record in records.items()
        ]
        own = list(answer.result["DBInstanceAutomatedBackups"])
        return ActionResult({"DBInstanceAutomatedBackups": own + replicated})

    return describe_db_instance_automated_backups


def _restores_from_replicated(original: Any) -> Any:
    def restore_db_instance_to_point_in_time(
        self: Any, source_id: str | None, target_id: str, overrides: dict[str, Any]
    ) -> Any:
        from moto.rds.exceptions import RDSClientError
        from moto.rds.models import rds_backends

        backups_arn = overrides.get("SourceDBInstanceAutomatedBackupsArn") or overrides.get(
            "source_db_instance_automated_backups_arn"
        )
        if source_id or not backups_arn:
            return original(self, source_id, target_id, overrides)
        records = _replicated(self).values()
        record = next((r for r in records if r["DBInstanceAutomatedBackupsArn"] == backups_arn), None)
        if record is None:
            raise RDSClientError("DBInstanceAutomatedBackupNotFound", f"{backups_arn} not found.")
        account = backups_arn.split(":")[4]
        source: Any = rds_backends[account][record["Region"]].databases.get(record["DBInstanceIdentifier"])
        if source is None:  # AWS restores retained backups of a deleted source; moto copies a live one
            raise RDSClientError("DBInstanceAutomatedBackupNotFound", f"{backups_arn}: its source is gone.")
        # moto restores from a source of its own region: lend it the source, by its own name,
        # for the copy (describe finds an instance by the identifier it holds).
        name = source.db_instance_identifier
        if name in self.databases:
            raise RDSClientError("InvalidParameterCombination", f"local mode: {name} exists in {self.region}")
        self.databases[name] = source
        try:
            restored = original(self, name, target_id, overrides)
        finally:
            self.databases.pop(name, None)
        restored.kms_key_id = record["KmsKeyId"] or restored.kms_key_id
        restored.db_instance_automated_backups_replications = []
        return restored

    return restore_db_instance_to_point_in_time


def patch_rds_backups(stack: ExitStack) -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    if not hasattr(RDSResponse, "start_db_instance_automated_backups_replication"):
        stack.enter_context(
            mock.patch.object(
                RDSResponse, "start_db_instance_automated_backups_replication", _start, create=True
            )
        )
    stack.enter_context(
        mock.patch.object(
            RDSBackend,
            "restore_db_instance_to_point_in_time",
            _restores_from_replicated(RDSBackend.restore_db_instance_to_point_in_time),
        )
    )
    stack.enter_context(
        mock.patch.object(
            RDSResponse,
            "describe_db_instance_automated_backups",
            _describe(RDSResponse.describe_db_instance_automated_backups),
        )
    )
