"""DynamoDB tables on moto: on-demand backups, DR copies as KMS-encrypted S3 exports, records,
validation, cleanup and restores.

What moto does not verify (see README "Resource types"): it accepts any ``S3SseKmsKeyId`` (local
mode records the key Lifeboat asked for, so these tests show the key requested, not that AWS
would accept it), ignores ``ClientToken`` and ``ExpectedBucketOwner``, and reports a constant
``BackupSizeBytes``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.restore import Purpose, RestoreSpec
from lifeboat.errors import (
    InvalidInput,
    PolicyViolation,
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    TargetExists,
)
from lifeboat.plugins.base import TeardownState
from lifeboat.plugins.dynamodb.plugin import DynamoDbTablePlugin
from lifeboat.plugins.dynamodb.records import PointRecord, RecordStore, bucket_name, record_key

from .plugin_aws import (
    ACCOUNT_ID,
    ALL_PUBLIC_ACCESS_BLOCKED,
    DR,
    SOURCE,
    Account,
    bucket_exists,
    new_key,
    new_point,
    point_for,
    public_access_block,
    restore_spec,
    tags_for,
)


def _table(
    acct: Account,
    name: str = "Orders_Prod",
    *,
    encrypted: bool = True,
    pitr: bool = True,
    policy: str | None = "prod",
    items: int = 3,
) -> ResourceRef:
    ddb = acct.clients("dynamodb", SOURCE)
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": [{"Key": "team", "Value": "orders"}]
        + ([{"Key": "lifeboat:policy", "Value": policy}] if policy else []),
    }
    if encrypted:
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": acct.source_key}
    arn = ddb.create_table(**request)["TableDescription"]["TableArn"]
    for n in range(items):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"order-{n}"}, "total": {"N": str(10 * n)}})
    if pitr:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    return ResourceRef.parse(arn)


def _backup(acct: Account, ref: ResourceRef) -> tuple[DynamoDbTablePlugin, str]:
    return new_point(DynamoDbTablePlugin, acct, ref)


def _backups_named(acct: Account, table: str, point: str) -> list[dict[str, Any]]:
    summaries = acct.clients("dynamodb", SOURCE).list_backups(TableName=table)["BackupSummaries"]
    return [s for s in summaries if s["BackupName"] == point]


def _objects(acct: Account, region: str, prefix: str) -> list[str]:
    listed = acct.clients("s3", region).list_objects_v2(Bucket=bucket_name(ACCOUNT_ID, region), Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _items(acct: Account, region: str, table: str) -> list[dict[str, Any]]:
    return sorted(acct.clients("dynamodb", region).scan(TableName=table)["Items"], key=lambda i: i["pk"]["S"])


def _spec(ref: ResourceRef, target: str, region: str, operation: str, *, drill: bool = False) -> RestoreSpec:
    purpose = Purpose.DRILL if drill else Purpose.RESTORE
    return restore_spec(
        target,
        operation,
        source_tags={"team": "orders"},
        purpose=purpose,
        region=region,
        resource_arn=ref.arn,
    )


# --- discovery and the source -------------------------------------------------------------------
def test_discovery_finds_tagged_tables_by_arn(account: Account) -> None:
    """GIVEN a table tagged lifeboat:policy=prod and an untagged one WHEN discovering THEN only
    the tagged table is found, by its ARN, with its policy."""
    tagged = _table(account)
    _table(account, "scratch", policy=None)

    found = list(DynamoDbTablePlugin(account.clients).discover(SOURCE, "lifeboat:policy"))

    assert found == [(tagged.arn, "prod")]


def test_the_source_reports_its_kms_key_and_a_missing_table_is_not_found(account: Account) -> None:
    """GIVEN a table encrypted with a customer key THEN the preflight sees it available with that
    key; GIVEN a table that no longer exists THEN ResourceNotFound."""
    ref = _table(account)
    plugin = DynamoDbTablePlugin(account.clients)

    source = plugin.describe_source(ref)

    assert (source.status, source.encrypted, source.kms_key_id) == ("available", True, account.source_key)
    with pytest.raises(ResourceNotFound):
        plugin.describe_source(ResourceRef.parse(f"arn:aws:dynamodb:{SOURCE}:{ACCOUNT_ID}:table/gone"))


# --- the backup in the table's region ---------------------------------------------------------
def test_backup_is_created_once_and_validates_with_its_item_count(account: Account) -> None:
    """GIVEN an encrypted table of 3 items WHEN the snapshot step runs twice THEN exactly one
    on-demand backup is named after the point, it validates (available, source key, tags) and
    its validation records 3 items."""
    ref = _table(account)
    plugin = DynamoDbTablePlugin(account.clients)
    point = point_for(ref.arn)

    first = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    facts, checks = plugin.validate(
        SOURCE,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.source_key,
        expected_tags=tags_for(ref.arn, point),
    )

    assert (first.created, again.created) == (True, False)
    [backup] = _backups_named(account, ref.name, point)
    assert facts.arn == backup["BackupArn"] and facts.kms_key_id == account.source_key
    assert all(c.passed for c in checks), checks
    assert {c.name: c.actual for c in checks}["item_count_recorded"] == 3


def test_a_create_interrupted_after_its_backup_started_finds_that_backup(account: Account) -> None:
    """GIVEN a first snapshot attempt that recorded the point and started the backup but stopped
    before recording the backup's ARN WHEN the step is retried THEN the retry adopts that backup:
    still exactly one backup, and the record names it."""
    ref = _table(account)
    point = point_for(ref.arn)

    class StopsBeforeRecordingTheBackup(RecordStore):
        def write(self, region: str, record: PointRecord, tags: dict[str, str]) -> None:
            if record.backup_arn:
                raise RuntimeError("Lambda timed out")
            super().write(region, record, tags)

    crashing = DynamoDbTablePlugin(account.clients)
    crashing._records = StopsBeforeRecordingTheBackup(account.clients, crashing._account)
    with pytest.raises(RuntimeError):
        crashing.create_recovery_point(ref, point, tags_for(ref.arn, point))
    outcome = DynamoDbTablePlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))

    [backup] = _backups_named(account, ref.name, point)
    assert outcome.created is True
    assert (
        DynamoDbTablePlugin(account.clients).describe_recovery_point(SOURCE, point).arn == backup["BackupArn"]
    )


def test_a_foreign_object_at_the_record_key_is_a_conflict(account: Account) -> None:
    """GIVEN an object someone else put where Lifeboat records this point (no Lifeboat tags)
    WHEN the snapshot step runs THEN it refuses to adopt it and starts no backup."""
    ref = _table(account)
    point = point_for(ref.arn)
    s3 = account.clients("s3", SOURCE)
    s3.create_bucket(Bucket=bucket_name(ACCOUNT_ID, SOURCE))
    s3.put_object(Bucket=bucket_name(ACCOUNT_ID, SOURCE), Key=record_key(point), Body=b"{}")

    with pytest.raises(RecoveryPointConflict):
        DynamoDbTablePlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))
    assert _backups_named(account, ref.name, point) == []


# --- the copy in a DR region ------------------------------------------------------------------
def test_copy_is_an_export_to_the_dr_region_under_its_key_once(account: Account) -> None:
    """GIVEN an encrypted table's backup WHEN it is copied to us-west-2 with the us-west-2 key,
    twice THEN one export was requested, into Lifeboat's us-west-2 bucket with SSE-KMS under that
    key; its objects are there, the copy validates with 3 items, and its record carries the tags."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    requests: list[dict[str, Any]] = []
    account.clients("dynamodb", SOURCE).meta.events.register(
        "provide-client-params.dynamodb.ExportTableToPointInTime", lambda params, **_: requests.append(params)
    )

    first = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    again = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    facts, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key,
        expected_tags=tags_for(ref.arn, point),
    )

    assert (first.created, again.created) == (True, False)
    [request] = requests
    assert (request["S3Bucket"], request["S3SseAlgorithm"], request["S3SseKmsKeyId"]) == (
        bucket_name(ACCOUNT_ID, DR),
        "KMS",
        account.dr_key,
    )
    [data] = [key for key in _objects(account, DR, f"{point}/AWSDynamoDB/") if "/data/" in key]
    head = account.clients("s3", DR).head_object(Bucket=bucket_name(ACCOUNT_ID, DR), Key=data)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", account.dr_key)
    assert (facts.region, facts.kms_key_id, facts.tags) == (DR, account.dr_key, tags_for(ref.arn, point))
    assert all(c.passed for c in checks), checks
    assert {c.name: c.actual for c in checks}["item_count_recorded"] == 3


def test_the_first_copy_to_a_region_creates_its_bucket_with_public_access_blocked(account: Account) -> None:
    """GIVEN a backup and no Lifeboat bucket yet in us-west-2 WHEN the point is copied there THEN
    the bucket was created with every kind of public access blocked and holds the copy's record."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    assert not bucket_exists(account.clients, DR, bucket_name(ACCOUNT_ID, DR))

    plugin.copy_recovery_point(ref, point, DR, account.dr_key)

    blocked = public_access_block(account.clients, DR, bucket_name(ACCOUNT_ID, DR))
    assert blocked == ALL_PUBLIC_ACCESS_BLOCKED
    assert record_key(point) in _objects(account, DR, f"{point}/")


def test_a_point_recorded_before_its_tags_were_kept_in_metadata_copies_with_its_tags(
    account: Account,
) -> None:
    """GIVEN a point whose record carries its tags only as object tags (written by a Lifeboat that
    did not keep them in the record's metadata, e.g. upgraded between snapshot and copy) WHEN it is
    copied THEN the copy's record carries the point's tags and validates."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    s3 = account.clients("s3", SOURCE)
    bucket, key = bucket_name(ACCOUNT_ID, SOURCE), record_key(point)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=body, Tagging=urlencode(tags_for(ref.arn, point)))

    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    facts, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key,
        expected_tags=tags_for(ref.arn, point),
    )

    assert facts.tags == tags_for(ref.arn, point)
    assert all(c.passed for c in checks), checks


def test_an_unencrypted_table_copies_under_s3_managed_encryption(account: Account) -> None:
    """GIVEN a table under DynamoDB's AWS owned key WHEN copied without a key THEN the export is
    SSE-S3 (AES256) and the copy validates as an unencrypted source's copy."""
    ref = _table(account, encrypted=False)
    plugin, point = _backup(account, ref)

    plugin.copy_recovery_point(ref, point, DR, None)
    facts, checks = plugin.validate(
        DR, point, plugin.describe_source(ref), expected_kms_key_id=None, expected_tags={}
    )

    assert (facts.encrypted, facts.kms_key_id) == (False, None)
    assert all(c.passed for c in checks), checks


def test_a_table_without_point_in_time_recovery_cannot_be_copied(account: Account) -> None:
    """GIVEN a table whose PITR is off WHEN its point is copied THEN PolicyViolation says PITR is
    needed and nothing is recorded in the DR region."""
    ref = _table(account, pitr=False)
    plugin, point = _backup(account, ref)

    with pytest.raises(PolicyViolation, match="point-in-time recovery"):
        plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    with pytest.raises(RecoveryPointNotFound):
        plugin.describe_recovery_point(DR, point)


# --- validation failures ----------------------------------------------------------------------
def test_a_copy_under_another_key_fails_validation(account: Account) -> None:
    """GIVEN a copy encrypted with the us-west-2 key WHEN it is validated against another key
    THEN only the kms_key check fails, naming both keys."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    other = new_key(account.clients, DR)

    _, checks = plugin.validate(
        DR, point, plugin.describe_source(ref), expected_kms_key_id=other, expected_tags={}
    )

    assert [(c.name, c.expected, c.actual) for c in checks if not c.passed] == [
        ("kms_key", other, account.dr_key)
    ]


def test_a_point_whose_record_lost_its_tags_fails_validation(account: Account) -> None:
    """GIVEN a backup whose record's Lifeboat tags were removed WHEN validated THEN the
    lifeboat_tags check fails."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    account.clients("s3", SOURCE).delete_object_tagging(
        Bucket=bucket_name(ACCOUNT_ID, SOURCE), Key=record_key(point)
    )

    _, checks = plugin.validate(
        SOURCE,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.source_key,
        expected_tags=tags_for(ref.arn, point),
    )

    assert [c.name for c in checks if not c.passed] == ["lifeboat_tags"]


# --- retention cleanup ------------------------------------------------------------------------
def test_delete_removes_the_backup_the_export_and_their_records(account: Account) -> None:
    """GIVEN a point and its us-west-2 copy WHEN both are deleted THEN the backup, the export's
    objects and both records are gone, and describing either is RecoveryPointNotFound."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)

    plugin.delete_recovery_point(SOURCE, point)
    plugin.delete_recovery_point(DR, point)

    assert _backups_named(account, ref.name, point) == []
    assert _objects(account, SOURCE, f"{point}/") == [] and _objects(account, DR, f"{point}/") == []
    for region in (SOURCE, DR):
        with pytest.raises(RecoveryPointNotFound):
            plugin.describe_recovery_point(region, point)


# --- restores ---------------------------------------------------------------------------------
def test_restore_from_the_backup_creates_a_new_table_with_its_items(account: Account) -> None:
    """GIVEN a backup of a 3-item table WHEN it is restored into a new table (prod: deletion
    protection) THEN the new table holds the same items, is encrypted with the source key,
    protected, tagged as this restore's, and a retried step finds it (created once)."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    spec = _spec(ref, "orders-r202611221200", SOURCE, "restore:1")

    first = plugin.start_restore(point, spec, "restore:1", ref=ref)
    again = plugin.start_restore(point, spec, "restore:1", ref=ref)
    restored = plugin.describe_restored(SOURCE, spec.target_id)

    assert (first.created, again.created) == (True, False)
    assert _items(account, SOURCE, spec.target_id) == _items(account, SOURCE, ref.name)
    assert (restored.ready, restored.kms_key_id, restored.deletion_protection) == (
        True,
        account.source_key,
        True,
    )
    assert restored.tags == spec.tags


def test_a_retried_restore_adopts_the_table_its_first_attempt_left_untagged(account: Account) -> None:
    """GIVEN a first restore attempt whose table DynamoDB created from the backup but which stopped
    before DynamoDB accepted its tags WHEN the step is retried THEN that table is finished (tags,
    deletion protection) and reported as this restore's, not refused and not restored twice."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    spec = _spec(ref, "orders-r202611221300", SOURCE, "restore:6")
    backup_arn = plugin.describe_recovery_point(SOURCE, point).arn
    account.clients("dynamodb", SOURCE).restore_table_from_backup(
        TargetTableName=spec.target_id, BackupArn=backup_arn
    )

    outcome = plugin.start_restore(point, spec, "restore:6", ref=ref)
    restored = plugin.describe_restored(SOURCE, spec.target_id)

    assert outcome.created is False
    assert (restored.tags, restored.deletion_protection) == (spec.tags, True)


def test_restore_from_a_dr_copy_imports_it_under_that_regions_key(account: Account) -> None:
    """GIVEN a copy of the table in us-west-2 WHEN it is restored there THEN a new us-west-2
    table holds the 3 items and the import asked for the us-west-2 key."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    spec = _spec(ref, "orders-dr", DR, "restore:2")

    plugin.start_restore(point, spec, "restore:2", ref=ref)
    restored = plugin.describe_restored(DR, "orders-dr")

    assert _items(account, DR, "orders-dr") == _items(account, SOURCE, ref.name)
    assert (restored.ready, restored.encrypted, restored.kms_key_id) == (True, True, account.dr_key)
    assert restored.tags == spec.tags


def test_restore_never_touches_an_existing_table(account: Account) -> None:
    """GIVEN a table already named like the restore target WHEN a restore (from the backup, or
    from a DR copy) targets that name THEN TargetExists, and the existing table keeps its items
    and gets no Lifeboat tag."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    for region in (SOURCE, DR):
        account.clients("dynamodb", region).create_table(
            TableName="taken",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        account.clients("dynamodb", region).put_item(TableName="taken", Item={"pk": {"S": "keep-me"}})

        with pytest.raises(TargetExists):
            plugin.start_restore(point, _spec(ref, "taken", region, "restore:3"), "restore:3", ref=ref)

        assert _items(account, region, "taken") == [{"pk": {"S": "keep-me"}}]
        assert plugin.describe_restored(region, "taken").tags == {}


def test_point_in_time_restore_in_the_tables_region_only(account: Account) -> None:
    """GIVEN a table with PITR THEN its window is known and a restore to a time in it creates a
    new table with the items; a point-in-time restore into another region is InvalidInput."""
    ref = _table(account)
    plugin = DynamoDbTablePlugin(account.clients)
    window = plugin.restore_window(ref)
    assert window is not None

    plugin.start_restore(
        None,
        _spec(ref, "orders-pitr", SOURCE, "restore:4"),
        "restore:4",
        ref=ref,
        point_in_time=window.latest,
    )

    assert _items(account, SOURCE, "orders-pitr") == _items(account, SOURCE, ref.name)
    with pytest.raises(InvalidInput, match="its own region"):
        plugin.start_restore(
            None,
            _spec(ref, "orders-pitr-dr", DR, "restore:5"),
            "restore:5",
            ref=ref,
            point_in_time=window.latest,
        )


def test_a_table_without_pitr_has_no_restore_window(account: Account) -> None:
    """GIVEN a table whose PITR is off THEN it has no point-in-time window."""
    assert DynamoDbTablePlugin(account.clients).restore_window(_table(account, pitr=False)) is None


def test_a_drill_table_is_torn_down(account: Account) -> None:
    """GIVEN a drill's temporary table restored from the backup WHEN the drill tears it down
    THEN the table is deleted and a second teardown finds it gone."""
    ref = _table(account)
    plugin, point = _backup(account, ref)
    spec = _spec(ref, "lbdrill-orders", SOURCE, "drill:1", drill=True)
    plugin.start_restore(point, spec, "drill:1", ref=ref)

    assert plugin.teardown(SOURCE, "lbdrill-orders", "drill:1") is TeardownState.DELETING
    assert plugin.teardown(SOURCE, "lbdrill-orders", "drill:1") is TeardownState.GONE


def test_a_record_is_written_before_the_backup_at_its_scheduled_key(account: Account) -> None:
    """GIVEN a backup THEN Lifeboat's record of it is in its region's bucket at <point>/...,
    naming the table, its key schema and the backup (what a restore and a retry need)."""
    ref = _table(account)
    _, point = _backup(account, ref)

    body = account.clients("s3", SOURCE).get_object(
        Bucket=bucket_name(ACCOUNT_ID, SOURCE), Key=record_key(point)
    )
    record = PointRecord.model_validate_json(body["Body"].read())

    [backup] = _backups_named(account, ref.name, point)
    assert (record.table_arn, record.backup_arn, record.export_arn) == (ref.arn, backup["BackupArn"], None)
    assert record.key_schema == [{"AttributeName": "pk", "KeyType": "HASH"}]
