"""Aurora clusters on moto: cluster snapshots, copies under the DR key, the copy limit, restores
into a new cluster with its writer, point in time, and drill teardown."""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.restore import Purpose, RestoreSpec, restored_checks
from lifeboat.errors import (
    InvalidInput,
    RecoveryPointConflict,
    ResourceNotFound,
    SnapshotQuotaExceeded,
    TargetExists,
    TeardownRefused,
)
from lifeboat.local.moto_patches import AURORA_COPY_LIMIT, COPY_POLLS
from lifeboat.plugins.base import TeardownState
from lifeboat.plugins.rds.cluster import DEFAULT_INSTANCE_CLASS, RdsClusterPlugin, writer_identifier
from moto.rds.models import rds_backends

from .plugin_aws import (
    ACCOUNT_ID,
    DR,
    SOURCE,
    Account,
    aws_tags,
    new_key,
    new_point,
    point_for,
    restore_spec,
    tags_for,
    tags_of,
)


def _cluster(
    acct: Account,
    name: str,
    *,
    encrypted: bool = True,
    policy: str | None = "prod",
    protected: bool = False,
    writer_class: str | None = None,
) -> ResourceRef:
    request: dict[str, Any] = {
        "DBClusterIdentifier": name,
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "MasterUsername": "lifeboat",
        "MasterUserPassword": "not-a-real-password-1",
        "Tags": [{"Key": "lifeboat:policy", "Value": policy}] if policy else [],
    }
    if encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": acct.source_key}
    if protected:
        request["DeletionProtection"] = True
    rds = acct.clients("rds", SOURCE)
    created = rds.create_db_cluster(**request)
    if writer_class:
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-writer",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass=writer_class,
        )
    return ResourceRef.parse(created["DBCluster"]["DBClusterArn"])


def _snapshot(acct: Account, ref: ResourceRef) -> tuple[RdsClusterPlugin, str]:
    return new_point(RdsClusterPlugin, acct, ref)


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
    point = point_for(ref.arn)

    first = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    source = plugin.describe_source(ref)
    facts, checks = plugin.validate(
        SOURCE, point, source, expected_kms_key_id=source.kms_key_id, expected_tags=tags_for(ref.arn, point)
    )

    assert (first.created, again.created) == (True, False)
    assert facts.engine == "aurora-postgresql" and facts.kms_key_id == account.source_key
    assert all(check.passed for check in checks), checks


def test_several_points_are_described_in_one_call_and_a_missing_one_is_absent(account: Account) -> None:
    """GIVEN snapshots of two clusters WHEN cleanup describes them and a point that does not
    exist, together THEN it gets each one's facts as describing it alone would, the missing one
    absent, in one DescribeDBClusterSnapshots call."""
    plugin, ledger = _snapshot(account, _cluster(account, "ledger"))
    _, billing = _snapshot(account, _cluster(account, "billing"))
    calls: list[str] = []
    rds = account.clients("rds", SOURCE)
    rds.meta.events.register("before-call.rds", lambda model, **_: calls.append(model.name))

    found = plugin.describe_recovery_points(SOURCE, [ledger, billing, "lb-gone-daily-202611220300-00000000"])

    assert calls == ["DescribeDBClusterSnapshots"]
    assert found == {p: plugin.describe_recovery_point(SOURCE, p) for p in (ledger, billing)}


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
    other = new_key(account.clients, DR)

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
    point = point_for(ref.arn)
    account.clients("rds", SOURCE).create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=point, DBClusterIdentifier="ledger"
    )

    with pytest.raises(RecoveryPointConflict):
        RdsClusterPlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))


def test_a_deleted_cluster_is_resource_not_found(account: Account) -> None:
    """GIVEN a cluster ARN that no longer exists WHEN the preflight describes it THEN ResourceNotFound."""
    ref = ResourceRef.parse(f"arn:aws:rds:{SOURCE}:{ACCOUNT_ID}:cluster:gone")

    with pytest.raises(ResourceNotFound):
        RdsClusterPlugin(account.clients).describe_source(ref)


def test_cluster_snapshot_quota_is_reported(account: Account) -> None:
    """GIVEN one manual cluster snapshot WHEN the quota is read THEN it counts it."""
    _snapshot(account, _cluster(account, "ledger"))

    quota = RdsClusterPlugin(account.clients).snapshot_quota(SOURCE)

    assert quota is not None and quota.used == 1


# --- restores -------------------------------------------------------------------------------
def _spec(
    ref: ResourceRef,
    target: str,
    operation: str,
    *,
    region: str = SOURCE,
    purpose: Purpose = Purpose.RESTORE,
    instance_class: str | None = None,
) -> RestoreSpec:
    return restore_spec(
        target,
        operation,
        source_tags={"team": "ledger"},
        purpose=purpose,
        region=region,
        resource_arn=ref.arn,
        instance_class=instance_class,
    )


def _copied(acct: Account, ref: ResourceRef) -> tuple[RdsClusterPlugin, str]:
    """A recovery point of ``ref`` copied to the DR region under the DR key, copy finished."""
    plugin, point = _snapshot(acct, ref)
    plugin.copy_recovery_point(ref, point, DR, acct.dr_key)
    for _ in range(COPY_POLLS + 1):
        plugin.describe_recovery_point(DR, point)
    return plugin, point


def _clusters(acct: Account, region: str) -> dict[str, dict[str, Any]]:
    found = acct.clients("rds", region).describe_db_clusters()["DBClusters"]
    return {c["DBClusterIdentifier"]: c for c in found}


def _instances(acct: Account, region: str) -> dict[str, dict[str, Any]]:
    found = acct.clients("rds", region).describe_db_instances()["DBInstances"]
    return {i["DBInstanceIdentifier"]: i for i in found}


def _tags(described: dict[str, Any]) -> dict[str, str]:
    return tags_of(described.get("TagList"))


def test_a_restore_of_the_dr_copy_creates_a_private_cluster_and_writer_under_the_dr_key(
    account: Account,
) -> None:
    # GIVEN an encrypted prod cluster whose writer is a db.r6g.xlarge, its point copied to us-west-2
    ref = _cluster(account, "ledger", writer_class="db.r6g.xlarge")
    plugin, point = _copied(account, ref)
    # WHEN the copy is restored into us-west-2 as a new cluster
    spec = _spec(ref, "ledger-dr", "restore:1", region=DR)
    outcome = plugin.start_restore(point, spec, "restore:1", ref=ref)
    # THEN the new cluster is in us-west-2, encrypted with that region's key, protected (prod),
    # tagged with the point it came from and the operation that owns it
    assert outcome.created
    cluster = _clusters(account, DR)["ledger-dr"]
    assert (cluster["StorageEncrypted"], cluster["KmsKeyId"]) == (True, account.dr_key)
    assert cluster["DeletionProtection"] is True
    assert _tags(cluster)["lifeboat:restored-from"] == "lb-point"
    assert _tags(cluster)["lifeboat:restore-operation"] == "restore:1"
    # AND its writer is a private instance of the source writer's class, tagged like the cluster
    writer = _instances(account, DR)["ledger-dr-1"]
    assert writer["DBClusterIdentifier"] == "ledger-dr"
    assert (writer["DBInstanceClass"], writer["PubliclyAccessible"]) == ("db.r6g.xlarge", False)
    assert _tags(writer)["lifeboat:restore-operation"] == "restore:1"
    # AND the restore reports the writer endpoint, and passes every level-1 check
    facts = plugin.describe_restored(DR, "ledger-dr")
    assert facts.ready and (facts.endpoint, facts.port) == (cluster["Endpoint"], cluster["Port"])
    checks = restored_checks(
        facts,
        encrypted=True,
        kms_key_id=account.dr_key,
        engine="aurora-postgresql",
        deletion_protection=True,
        expected_tags=spec.tags,
    )
    assert [c.name for c in checks if not c.passed] == []
    # AND the source region holds only the source
    assert set(_clusters(account, SOURCE)) == {"ledger"}


def test_the_writer_class_is_the_requested_one_else_a_documented_default(account: Account) -> None:
    # GIVEN a cluster without any instance (nothing to copy a class from)
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    # WHEN it is restored twice: without a class, and with the drill policy's class
    plugin.start_restore(point, _spec(ref, "plain", "restore:1"), "restore:1", ref=ref)
    drill = _spec(ref, "small", "drill:1", purpose=Purpose.DRILL, instance_class="db.t4g.medium")
    plugin.start_restore(point, drill, "drill:1", ref=ref)
    # THEN the first writer has the default class and the second the one asked for
    instances = _instances(account, SOURCE)
    assert instances["plain-1"]["DBInstanceClass"] == DEFAULT_INSTANCE_CLASS
    assert instances["small-1"]["DBInstanceClass"] == "db.t4g.medium"
    # AND the drill's cluster has no deletion protection
    assert _clusters(account, SOURCE)["small"]["DeletionProtection"] is False


def test_a_retried_restore_creates_nothing_new_and_another_operation_is_refused(account: Account) -> None:
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    spec = _spec(ref, "ledger-r", "restore:1")
    plugin.start_restore(point, spec, "restore:1", ref=ref)
    before = (_clusters(account, SOURCE), _instances(account, SOURCE))
    # WHEN the same operation starts again (a retried step) THEN it finds its own cluster and writer
    assert not plugin.start_restore(point, spec, "restore:1", ref=ref).created
    assert (_clusters(account, SOURCE).keys(), _instances(account, SOURCE).keys()) == (
        before[0].keys(),
        before[1].keys(),
    )
    # WHEN another operation targets the same identifier THEN TargetExists, and nothing is touched
    with pytest.raises(TargetExists, match="never restores over an existing resource"):
        plugin.start_restore(point, _spec(ref, "ledger-r", "restore:2"), "restore:2", ref=ref)
    with pytest.raises(TargetExists):
        plugin.ensure_target_free(SOURCE, "ledger-r", "restore:2")
    assert _tags(_clusters(account, SOURCE)["ledger-r"])["lifeboat:restore-operation"] == "restore:1"
    assert set(_instances(account, SOURCE)) == set(before[1])
    plugin.ensure_target_free(SOURCE, "brand-new-name", "restore:2")


def test_a_retried_restore_adds_the_writer_its_first_attempt_did_not(account: Account) -> None:
    # GIVEN a first attempt that restored the cluster (with this operation's tags) and stopped
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    spec = _spec(ref, "ledger-r", "restore:1")
    account.clients("rds", SOURCE).restore_db_cluster_from_snapshot(
        DBClusterIdentifier="ledger-r",
        SnapshotIdentifier=point,
        Engine="aurora-postgresql",
        Tags=aws_tags(spec.tags),
    )
    assert not plugin.describe_restored(SOURCE, "ledger-r").ready  # no instance: unreachable
    # WHEN the step is retried THEN it adds the writer to that cluster and reports it not created
    assert not plugin.start_restore(point, spec, "restore:1", ref=ref).created
    assert _instances(account, SOURCE)["ledger-r-1"]["DBClusterIdentifier"] == "ledger-r"
    assert plugin.describe_restored(SOURCE, "ledger-r").ready


def test_a_foreign_instance_with_the_writers_name_is_refused(account: Account) -> None:
    # GIVEN a standalone DB instance someone named like the restore's writer
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    account.clients("rds", SOURCE).create_db_instance(
        DBInstanceIdentifier="ledger-r-1",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="someone",
        MasterUserPassword="not-a-real-password-2",
        AllocatedStorage=20,
    )
    # WHEN a restore targets ledger-r THEN the writer is refused, and that instance is untouched
    with pytest.raises(TargetExists, match="ledger-r-1 already exists"):
        plugin.start_restore(point, _spec(ref, "ledger-r", "restore:1"), "restore:1", ref=ref)
    instance = _instances(account, SOURCE)["ledger-r-1"]
    assert (instance.get("DBClusterIdentifier"), _tags(instance)) == (None, {})


def test_ready_only_when_the_cluster_and_its_instances_are_available(account: Account) -> None:
    ref = _cluster(account, "ledger")
    plugin, point = _snapshot(account, ref)
    plugin.start_restore(point, _spec(ref, "ledger-r", "restore:1"), "restore:1", ref=ref)
    writer = rds_backends[ACCOUNT_ID][SOURCE].databases["ledger-r-1"]
    # GIVEN its writer still being created (moto makes instances available at once; AWS takes minutes)
    writer.status = "creating"
    facts = plugin.describe_restored(SOURCE, "ledger-r")
    assert (facts.ready, facts.failed, facts.status) == (
        False,
        False,
        "available, instance ledger-r-1 creating",
    )
    # GIVEN a writer RDS cannot start with its parameters THEN the restore has failed (a person decides)
    writer.status = "incompatible-parameters"
    assert plugin.describe_restored(SOURCE, "ledger-r").failed


def test_point_in_time_restore_inside_the_clusters_window_in_its_region_only(account: Account) -> None:
    # GIVEN an encrypted cluster and its point-in-time window
    ref = _cluster(account, "ledger", writer_class="db.r6g.2xlarge")
    plugin = RdsClusterPlugin(account.clients)
    window = plugin.restore_window(ref)
    assert window is not None and window.earliest <= window.latest
    # WHEN it is restored to the latest restorable time
    spec = _spec(ref, "ledger-pitr", "restore:4")
    assert plugin.start_restore(None, spec, "restore:4", ref=ref, point_in_time=window.latest).created
    # THEN a new cluster under the source's key exists next to it, with a writer of the source's class
    cluster = _clusters(account, SOURCE)["ledger-pitr"]
    assert (cluster["KmsKeyId"], _tags(cluster)["lifeboat:restore-operation"]) == (
        account.source_key,
        "restore:4",
    )
    assert _instances(account, SOURCE)["ledger-pitr-1"]["DBInstanceClass"] == "db.r6g.2xlarge"
    # AND a point-in-time restore into another region is refused before any call
    with pytest.raises(InvalidInput, match="its own region"):
        plugin.start_restore(
            None,
            _spec(ref, "ledger-pitr-dr", "restore:5", region=DR),
            "restore:5",
            ref=ref,
            point_in_time=window.latest,
        )
    assert "ledger-pitr-dr" not in _clusters(account, DR)


def test_teardown_deletes_only_the_drills_own_cluster_and_its_writer(account: Account) -> None:
    # GIVEN a deletion-protected source, a drill's cluster and a restore's cluster from its point
    ref = _cluster(account, "ledger", protected=True, writer_class="db.r6g.large")
    plugin, point = _snapshot(account, ref)
    drill = _spec(ref, "lbdrill-ledger", "drill:1", purpose=Purpose.DRILL)
    plugin.start_restore(point, drill, "drill:1", ref=ref)
    plugin.start_restore(point, _spec(ref, "kept", "restore:9"), "restore:9", ref=ref)
    # WHEN teardown is asked for the source, a real restore, or the drill under another drill's id
    for identifier, operation_id in (
        ("ledger", "drill:1"),
        ("kept", "restore:9"),
        ("lbdrill-ledger", "drill:2"),
    ):
        with pytest.raises(TeardownRefused):
            plugin.teardown(SOURCE, identifier, operation_id)
    # WHEN the drill tears down its own cluster, as the teardown step's back-off repeats it
    states = [plugin.teardown(SOURCE, "lbdrill-ledger", "drill:1") for _ in range(3)]
    # THEN its writer goes first, then the cluster; the others are untouched
    assert states == [TeardownState.DELETING, TeardownState.DELETING, TeardownState.GONE]
    assert set(_clusters(account, SOURCE)) == {"ledger", "kept"}
    assert set(_instances(account, SOURCE)) == {"ledger-writer", "kept-1"}


def test_a_writer_name_always_fits_and_long_targets_do_not_share_one() -> None:
    long_a, long_b = "a" * 62 + "b", "a" * 62 + "c"
    assert writer_identifier("ledger-r") == "ledger-r-1"
    assert len(writer_identifier(long_a)) <= 63 and writer_identifier(long_a).endswith("-1")
    assert writer_identifier(long_a) != writer_identifier(long_b)
