"""RDS DB instances on moto: tagged snapshots, idempotent re-runs, copies under the DR key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from lifeboat.aws.clients import Clients
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.restore import Purpose, RestoreSpec
from lifeboat.errors import (
    KmsKeyNotUsable,
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    SnapshotQuotaExceeded,
    TargetExists,
    TeardownRefused,
)
from lifeboat.local.moto_patches import patched_moto
from lifeboat.plugins.base import TeardownState
from lifeboat.plugins.rds.instance import RdsInstancePlugin

from .plugin_aws import ACCOUNT_ID, SOURCE, aws_tags, new_key, point_for, restore_spec, tags_for, tags_of
from .plugin_aws import DR as WEST

EU = "eu-west-1"


@dataclass
class Account:
    clients: Clients
    plugin: RdsInstancePlugin
    source_key: str
    _dr_keys: dict[str, str] = field(default_factory=dict)

    def dr_key(self, region: str) -> str:
        """The region's DR key, created on first use (each key costs a client and a call)."""
        if region not in self._dr_keys:
            self._dr_keys[region] = new_key(self.clients, region, f"DR copies in {region}")
        return self._dr_keys[region]

    def rds(self, region: str = SOURCE) -> Any:
        return self.clients("rds", region)

    def snapshots(self, region: str) -> dict[str, dict[str, Any]]:
        """Manual snapshots (RDS's own automated ones are not recovery points)."""
        found = self.rds(region).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        return {s["DBSnapshotIdentifier"]: s for s in found}


@pytest.fixture
def account(moto_clients: Clients) -> Iterator[Account]:
    """An empty emulated account with a customer key for sources (DR keys are made on demand)."""
    yield Account(moto_clients, RdsInstancePlugin(moto_clients), new_key(moto_clients, SOURCE, "app data"))


def _instance(
    acct: Account, name: str, *, encrypted: bool = True, tags: dict[str, str] | None = None
) -> ResourceRef:
    request: dict[str, Any] = {
        "DBInstanceIdentifier": name,
        "DBInstanceClass": "db.t4g.medium",
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "AllocatedStorage": 100,
        "MasterUsername": "lifeboat",
        "MasterUserPassword": "not-a-real-password-1",
        "Tags": aws_tags({"lifeboat:policy": "prod"} if tags is None else tags),
    }
    if encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": acct.source_key}
    created = acct.rds().create_db_instance(**request)
    return ResourceRef.parse(created["DBInstance"]["DBInstanceArn"])


def _point(ref: ResourceRef) -> tuple[str, dict[str, str]]:
    """The daily point of ``ref`` and its tags (not created)."""
    point = point_for(ref.arn)
    return point, tags_for(ref.arn, point)


def _tags(snapshot: dict[str, Any]) -> dict[str, str]:
    return tags_of(snapshot.get("TagList"))


def test_discovery_finds_only_instances_tagged_with_a_policy(account: Account) -> None:
    # GIVEN a prod-tagged, a staging-tagged, an untagged and an otherwise-tagged instance
    prod = _instance(account, "orders-db")
    staging = _instance(account, "reports-db", tags={"lifeboat:policy": "staging"})
    _instance(account, "legacy-db", tags={})
    _instance(account, "scratch-db", tags={"team": "data"})
    # WHEN Lifeboat discovers protected instances
    found = sorted(account.plugin.discover(SOURCE, "lifeboat:policy"))
    # THEN only the tagged ones are found, each with its policy
    assert found == sorted([(prod.arn, "prod"), (staging.arn, "staging")])


def test_describe_source_reports_the_facts_a_snapshot_must_match(account: Account) -> None:
    """GIVEN an encrypted 100 GiB postgres 16.4 instance WHEN described THEN those facts and its key are
    reported."""
    ref = _instance(account, "orders-db")
    source = account.plugin.describe_source(ref)
    assert (source.status, source.engine, source.engine_version, source.size_gib) == (
        "available",
        "postgres",
        "16.4",
        100,
    )
    assert source.encrypted
    assert source.kms_key_id == account.source_key


def test_describe_source_of_a_deleted_instance_is_resource_not_found(account: Account) -> None:
    # GIVEN an ARN whose instance does not exist
    ref = ResourceRef.parse(f"arn:aws:rds:{SOURCE}:{ACCOUNT_ID}:db:gone-db")
    # WHEN the preflight describes it THEN ResourceNotFound names it
    with pytest.raises(ResourceNotFound, match="gone-db"):
        account.plugin.describe_source(ref)


def test_create_makes_a_tagged_snapshot(account: Account) -> None:
    # GIVEN an encrypted prod instance
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    # WHEN its recovery point is created
    outcome = account.plugin.create_recovery_point(ref, point, tags)
    # THEN a snapshot with the deterministic id exists, carries the Lifeboat tags, under the source key
    assert (outcome.created, outcome.region) == (True, SOURCE)
    snapshot = account.snapshots(SOURCE)[point]
    assert snapshot["DBInstanceIdentifier"] == "orders-db"
    assert _tags(snapshot) == tags
    assert snapshot["Encrypted"]
    assert snapshot["KmsKeyId"] == account.source_key


def test_creating_again_finds_the_first_snapshot_and_makes_no_second(account: Account) -> None:
    # GIVEN a recovery point already created by a first run
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    # WHEN the step is re-run (a retried Lambda, a duplicate schedule)
    again = account.plugin.create_recovery_point(ref, point, tags)
    # THEN it reports the existing point and the instance still has exactly one snapshot
    assert (again.recovery_point_id, again.created) == (point, False)
    assert list(account.snapshots(SOURCE)) == [point]


def test_a_foreign_snapshot_with_our_id_is_a_conflict_and_is_left_alone(account: Account) -> None:
    # GIVEN somebody made a snapshot with our id but without Lifeboat's tags
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.rds().create_db_snapshot(DBSnapshotIdentifier=point, DBInstanceIdentifier="orders-db")
    # WHEN Lifeboat creates its recovery point
    with pytest.raises(RecoveryPointConflict, match="does not carry Lifeboat's tags"):
        account.plugin.create_recovery_point(ref, point, tags)
    # THEN the foreign snapshot is not adopted: it still has no Lifeboat tags
    assert _tags(account.snapshots(SOURCE)[point]) == {}


def test_an_encrypted_copy_lands_in_the_dr_region_under_exactly_that_regions_key(account: Account) -> None:
    # GIVEN an encrypted recovery point in us-east-1
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    # WHEN it is copied to us-west-2 with the us-west-2 DR key
    outcome = account.plugin.copy_recovery_point(ref, point, WEST, account.dr_key(WEST))
    # THEN us-west-2 holds the copy, encrypted with that key (not the source key), with our tags
    assert (outcome.region, outcome.created) == (WEST, True)
    copy = account.snapshots(WEST)[point]
    assert copy["Encrypted"]
    assert copy["KmsKeyId"] == account.dr_key(WEST)
    assert _tags(copy) == tags
    # AND it passes level-1 validation against the DR key
    _, checks = account.plugin.validate(
        WEST,
        point,
        account.plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key(WEST),
        expected_tags=tags,
    )
    assert [c.name for c in checks if not c.passed] == []


def test_copying_again_finds_the_existing_copy(account: Account) -> None:
    """GIVEN a copy already made WHEN the replicate step re-runs THEN it reports the copy and makes no second
    one."""
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    account.plugin.copy_recovery_point(ref, point, WEST, account.dr_key(WEST))
    again = account.plugin.copy_recovery_point(ref, point, WEST, account.dr_key(WEST))
    assert again.created is False
    assert list(account.snapshots(WEST)) == [point]


@pytest.mark.parametrize("key", ["eu-west-1-key", "arn:aws:kms:us-west-2:123456789012:key/no-such-key"])
def test_a_copy_under_an_unusable_key_is_refused_and_nothing_lands(account: Account, key: str) -> None:
    # GIVEN a recovery point, and a key from another region or one that does not exist
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    key_id = account.dr_key(EU) if key == "eu-west-1-key" else key
    # WHEN it is copied to us-west-2 under that key
    with pytest.raises(KmsKeyNotUsable, match=f"copy of {point} to us-west-2"):
        account.plugin.copy_recovery_point(ref, point, WEST, key_id)
    # THEN no copy exists in us-west-2
    assert account.snapshots(WEST) == {}


def test_describing_a_missing_recovery_point_is_recovery_point_not_found(account: Account) -> None:
    """GIVEN no snapshot with that id WHEN described THEN RecoveryPointNotFound names it."""
    with pytest.raises(RecoveryPointNotFound, match="lb-nothing-here"):
        account.plugin.describe_recovery_point(WEST, "lb-nothing-here")


def test_deleting_removes_the_recovery_point(account: Account) -> None:
    """GIVEN a recovery point WHEN deleted THEN it is gone, and deleting it again is RecoveryPointNotFound."""
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    account.plugin.delete_recovery_point(SOURCE, point)
    assert account.snapshots(SOURCE) == {}
    with pytest.raises(RecoveryPointNotFound):
        account.plugin.delete_recovery_point(SOURCE, point)


def test_snapshot_quota_counts_manual_snapshots(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an account whose manual snapshot quota is 5, with one Lifeboat snapshot in it
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", "5")
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    # WHEN the quota is read (local mode answers RDS DescribeAccountAttributes from moto's store)
    with patched_moto(time_scale=1.0):
        quota = account.plugin.snapshot_quota(SOURCE)
    # THEN 1 of 5 is used, 4 left
    assert quota is not None
    assert (quota.used, quota.max, quota.headroom) == (1, 5, 4)


def test_a_full_snapshot_quota_is_snapshot_quota_exceeded(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an account whose snapshot quota is used up (by an operator's manual snapshot)
    ref = _instance(account, "orders-db")
    account.rds().create_db_snapshot(
        DBSnapshotIdentifier="manual-before-upgrade", DBInstanceIdentifier="orders-db"
    )
    every_snapshot = account.rds().describe_db_snapshots()["DBSnapshots"]  # moto counts automated too
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", str(len(every_snapshot)))
    point, tags = _point(ref)
    # WHEN Lifeboat creates its recovery point THEN it is told the quota is used up, and nothing is made
    with pytest.raises(SnapshotQuotaExceeded, match=f"snapshot {point} of {ref.arn}"):
        account.plugin.create_recovery_point(ref, point, tags)
    assert list(account.snapshots(SOURCE)) == ["manual-before-upgrade"]


# --- restores -------------------------------------------------------------------------------
def _spec(target: str, operation_id: str, purpose: Purpose, region: str = SOURCE) -> RestoreSpec:
    return restore_spec(
        target,
        operation_id,
        source_tags={"team": "payments"},
        purpose=purpose,
        region=region,
        restored_from="lb-x",
    )


def test_a_restore_creates_a_private_tagged_new_instance_from_the_copy(account: Account) -> None:
    # GIVEN an encrypted recovery point copied to us-west-2
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    account.plugin.copy_recovery_point(ref, point, WEST, account.dr_key(WEST))
    # WHEN it is restored into us-west-2 (local mode applies the explicit PubliclyAccessible=False
    # that moto would drop, leaving the instance's accessibility unreported)
    spec = _spec("orders-db-restored", "restore:1", Purpose.RESTORE, WEST)
    with patched_moto(time_scale=1.0):
        outcome = account.plugin.start_restore(point, spec, "restore:1", ref=ref)
    # THEN a new instance exists there, private, protected, under the DR key, with the tags
    facts = account.plugin.describe_restored(WEST, "orders-db-restored")
    assert outcome.created and facts.ready
    assert (facts.publicly_accessible, facts.deletion_protection) == (False, True)
    assert (facts.encrypted, facts.kms_key_id) == (True, account.dr_key(WEST))
    assert facts.tags["team"] == "payments" and facts.tags["lifeboat:restore-operation"] == "restore:1"


def test_a_retried_restore_finds_its_own_instance_and_another_is_refused(account: Account) -> None:
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    spec = _spec("orders-db-restored", "restore:1", Purpose.RESTORE)
    account.plugin.start_restore(point, spec, "restore:1", ref=ref)
    # WHEN the same operation starts again (a retried step) THEN it finds its own instance
    assert not account.plugin.start_restore(point, spec, "restore:1", ref=ref).created
    # WHEN another operation targets the same identifier THEN it is refused, nothing touched
    with pytest.raises(TargetExists, match="never restores over an existing resource"):
        account.plugin.start_restore(point, spec, "restore:2", ref=ref)
    with pytest.raises(TargetExists):
        account.plugin.ensure_target_free(SOURCE, "orders-db", "restore:2")  # the source itself
    account.plugin.ensure_target_free(SOURCE, "brand-new-name", "restore:2")


def test_teardown_deletes_only_the_drills_own_instance(account: Account) -> None:
    ref = _instance(account, "orders-db")
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    account.plugin.start_restore(point, _spec("drill-1", "drill:1", Purpose.DRILL), "drill:1", ref=ref)
    account.plugin.start_restore(point, _spec("kept", "restore:9", Purpose.RESTORE), "restore:9", ref=ref)
    # WHEN teardown is asked for the source, a real restore, or another drill's instance: refused
    for identifier, operation_id in (("orders-db", "drill:1"), ("kept", "restore:9"), ("drill-1", "drill:2")):
        with pytest.raises(TeardownRefused):
            account.plugin.teardown(SOURCE, identifier, operation_id)
    # WHEN the drill tears down its own instance THEN it is deleted, and a second call finds it gone
    assert account.plugin.teardown(SOURCE, "drill-1", "drill:1") in (
        TeardownState.DELETING,
        TeardownState.GONE,
    )
    assert account.plugin.teardown(SOURCE, "drill-1", "drill:1") is TeardownState.GONE
    assert {i["DBInstanceIdentifier"] for i in account.rds().describe_db_instances()["DBInstances"]} == {
        "orders-db",
        "kept",
    }


def test_the_point_in_time_window_follows_automated_backups(account: Account) -> None:
    ref = _instance(account, "orders-db")
    window = account.plugin.restore_window(ref)
    assert window is not None and window.earliest <= window.latest
    account.rds().modify_db_instance(DBInstanceIdentifier="orders-db", BackupRetentionPeriod=0)
    assert account.plugin.restore_window(ref) is None


def test_a_drill_of_a_protected_public_source_comes_up_private_and_deletable(account: Account) -> None:
    # GIVEN a source with deletion protection that is (wrongly) publicly accessible
    ref = _instance(account, "orders-db")
    account.rds().modify_db_instance(
        DBInstanceIdentifier="orders-db", DeletionProtection=True, PubliclyAccessible=True
    )
    point, tags = _point(ref)
    account.plugin.create_recovery_point(ref, point, tags)
    # WHEN a drill restores it (local mode applies the explicit False values moto would drop)
    with patched_moto(time_scale=1.0):
        account.plugin.start_restore(point, _spec("drill-1", "drill:1", Purpose.DRILL), "drill:1", ref=ref)
        facts = account.plugin.describe_restored(SOURCE, "drill-1")
        # THEN the temporary instance is private and unprotected, so teardown can delete it
        assert (facts.publicly_accessible, facts.deletion_protection) == (False, False)
        account.plugin.teardown(SOURCE, "drill-1", "drill:1")
    assert "drill-1" not in {
        i["DBInstanceIdentifier"] for i in account.rds().describe_db_instances()["DBInstances"]
    }


def test_continuous_protection_is_turned_on_once_and_needs_the_dr_key(account: Account) -> None:
    from lifeboat.domain.policy import ContinuousProtection, DrTarget
    from lifeboat.errors import KmsKeyNotUsable

    # GIVEN an encrypted instance keeping automated backups 1 day
    ref = _instance(account, "orders-db")
    account.rds().modify_db_instance(
        DBInstanceIdentifier="orders-db", BackupRetentionPeriod=1, ApplyImmediately=True
    )
    wanted = ContinuousProtection(retention_days=7)
    with patched_moto(time_scale=1.0):
        # WHEN replication to us-west-2 is asked without the DR key THEN it is refused as a key
        # problem, after the retention was raised
        with pytest.raises(KmsKeyNotUsable):
            account.plugin.ensure_continuous_protection(ref, wanted, DrTarget(region=WEST))
        # WHEN asked with the key THEN automated backups replicate there; asked again, nothing changes
        target = DrTarget(region=WEST, kms_key_id=account.dr_key(WEST))
        assert account.plugin.ensure_continuous_protection(ref, wanted, target) == [
            "automated backups replicated to us-west-2"
        ]
        assert account.plugin.ensure_continuous_protection(ref, wanted, target) == []
        # AND us-west-2 lists the replicated backups with a restore window under its key
        (found,) = account.rds(WEST).describe_db_instance_automated_backups()["DBInstanceAutomatedBackups"]
    assert (found["DBInstanceArn"], found["KmsKeyId"]) == (ref.arn, target.kms_key_id)
    assert found["RestoreWindow"]["LatestTime"] is not None
    (instance,) = account.rds().describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"]
    assert instance["BackupRetentionPeriod"] == 7
