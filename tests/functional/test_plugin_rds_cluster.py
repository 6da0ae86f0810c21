"""Aurora clusters on moto: cluster snapshots, copies under the DR key, the copy limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.errors import RecoveryPointConflict, ResourceNotFound, SnapshotQuotaExceeded
from lifeboat.local.moto_patches import AURORA_COPY_LIMIT, COPY_POLLS
from lifeboat.plugins.rds_cluster import RdsClusterPlugin

from .plugin_aws import (
    DR,
    SCHEDULED_AT,
    SOURCE,
    Account,
    emulated_account,
    tags_for,
)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    yield from emulated_account(monkeypatch)


def _cluster(acct: Account, name: str, *, encrypted: bool = True, policy: str | None = "prod") -> ResourceRef:
    request = {
        "DBClusterIdentifier": name,
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "MasterUsername": "lifeboat",
        "MasterUserPassword": "not-a-real-password-1",
        "Tags": [{"Key": "lifeboat:policy", "Value": policy}] if policy else [],
    }
    if encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": acct.source_key}
    created = acct.clients("rds", SOURCE).create_db_cluster(**request)
    return ResourceRef.parse(created["DBCluster"]["DBClusterArn"])


def _snapshot(acct: Account, ref: ResourceRef) -> tuple[RdsClusterPlugin, str]:
    plugin = RdsClusterPlugin(acct.clients)
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)
    plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    return plugin, point


def test_discovery_finds_tagged_clusters_only(account: Account) -> None:
    """GIVEN a tagged and an untagged cluster WHEN discovering THEN only the tagged one, with its policy."""
    tagged = _cluster(account, "ledger")
    _cluster(account, "scratch", policy=None)

    found = list(RdsClusterPlugin(account.clients).discover(SOURCE, "lifeboat:policy"))

    assert found == [(tagged.arn, "prod")]


def test_snapshot_is_created_once_and_validates(account: Account) -> None:
    """GIVEN an encrypted Aurora cluster WHEN the snapshot step runs twice THEN the second run
    finds the first snapshot, which is available, encrypted with the source key, same engine."""
    ref = _cluster(account, "ledger")
    plugin = RdsClusterPlugin(account.clients)
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)

    first = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    source = plugin.describe_source(ref)
    facts, checks = plugin.validate(
        SOURCE, point, source, expected_kms_key_id=source.kms_key_id, expected_tags=tags_for(ref.arn, point)
    )

    assert (first.created, again.created) == (True, False)
    assert facts.engine == "aurora-postgresql" and facts.kms_key_id == account.source_key
    assert all(check.passed for check in checks), checks


def test_copy_lands_in_the_dr_region_under_the_dr_key(account: Account) -> None:
    """GIVEN a cluster snapshot WHEN it is copied to us-west-2 with the us-west-2 key (twice)
    THEN one copy exists there, copying at first, then available, encrypted with that key and
    carrying Lifeboat's tags."""
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    source = plugin.describe_source(ref)

    first = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    again = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    statuses = [plugin.describe_recovery_point(DR, point).status for _ in range(COPY_POLLS + 1)]
    _, checks = plugin.validate(
        DR, point, source, expected_kms_key_id=account.dr_key, expected_tags=tags_for(ref.arn, point)
    )

    assert (first.created, again.created) == (True, False)
    assert statuses[-1] == "available" and "copying" in statuses
    assert {c.name: c.passed for c in checks} == {
        "available": True,
        "encrypted": True,
        "kms_key": True,
        "engine": True,
        "size_gib": True,
        "lifeboat_tags": True,
    }


def test_a_copy_under_the_wrong_key_fails_validation(account: Account) -> None:
    """GIVEN a copy encrypted with the DR key WHEN validated against another key THEN the
    kms_key check fails and says which key it found."""
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    for _ in range(COPY_POLLS + 1):
        plugin.describe_recovery_point(DR, point)
    other = account.clients("kms", DR).create_key()["KeyMetadata"]["Arn"]

    _, checks = plugin.validate(
        DR, point, plugin.describe_source(ref), expected_kms_key_id=other, expected_tags={}
    )

    failed = {c.name: c.actual for c in checks if not c.passed}
    assert failed == {"kms_key": account.dr_key}


def test_a_sixth_concurrent_copy_to_one_region_hits_the_aurora_limit(account: Account) -> None:
    """GIVEN five cluster copies in flight to us-west-2 WHEN a sixth is started THEN it is
    refused with SnapshotQuotaExceeded (what the workflow retries), and once a copy finishes
    the sixth goes through."""
    plugin = RdsClusterPlugin(account.clients)
    refs = [_cluster(account, f"ledger-{n}", encrypted=False) for n in range(AURORA_COPY_LIMIT + 1)]
    points = [_snapshot(account, ref)[1] for ref in refs]
    for ref, point in zip(refs[:-1], points[:-1], strict=True):
        plugin.copy_recovery_point(ref, point, DR, None)

    with pytest.raises(SnapshotQuotaExceeded, match="limit 5"):
        plugin.copy_recovery_point(refs[-1], points[-1], DR, None)
    for _ in range(COPY_POLLS + 1):
        plugin.describe_recovery_point(DR, points[0])
    plugin.copy_recovery_point(refs[-1], points[-1], DR, None)

    assert plugin.describe_recovery_point(DR, points[-1]).status == "copying"


def test_a_foreign_snapshot_with_our_id_is_a_conflict(account: Account) -> None:
    """GIVEN someone else's cluster snapshot named with our deterministic id WHEN the snapshot
    step runs THEN it refuses to adopt it."""
    ref = _cluster(account, "ledger")
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)
    account.clients("rds", SOURCE).create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=point, DBClusterIdentifier="ledger"
    )

    with pytest.raises(RecoveryPointConflict):
        RdsClusterPlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))


def test_a_deleted_cluster_is_resource_not_found(account: Account) -> None:
    """GIVEN a cluster ARN that no longer exists WHEN the preflight describes it THEN ResourceNotFound."""
    ref = ResourceRef.parse("arn:aws:rds:us-east-1:123456789012:cluster:gone")

    with pytest.raises(ResourceNotFound):
        RdsClusterPlugin(account.clients).describe_source(ref)


def test_cluster_snapshot_quota_is_reported(account: Account) -> None:
    """GIVEN one manual cluster snapshot WHEN the quota is read THEN it counts it."""
    _snapshot(account, _cluster(account, "ledger"))

    quota = RdsClusterPlugin(account.clients).snapshot_quota(SOURCE)

    assert quota is not None and quota.used == 1
