"""ElastiCache Redis replication groups on moto: snapshots named after the point, validation,
restores into new groups, drill teardown. The cross-region copy is in
``test_plugin_elasticache_redis_copy.py``.

What moto does not verify (see README "Resource types"): that a KMS key exists or is usable
(moto records the ``KmsKeyId`` Lifeboat passes to ``CreateSnapshot`` and ``CreateReplicationGroup``,
so these tests show the key asked for, not that AWS accepted it); that a snapshot's data seeds
the restored group (moto's ``CreateReplicationGroup`` ignores ``SnapshotName``: the restored group
has the engine, node type and encryption Lifeboat asked for); IAM; snapshot progress (moto's
snapshots are ``available`` at once; local mode ends a group's deletion at once).
"""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.restore import Purpose, RestoreSpec
from lifeboat.errors import (
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    TargetExists,
    TeardownRefused,
    UnsupportedOperation,
)
from lifeboat.plugins.base import TeardownState
from lifeboat.plugins.elasticache.facts import ENCRYPTION_TAG
from lifeboat.plugins.elasticache.plugin import ElastiCacheRedisPlugin

from .plugin_aws import (
    ACCOUNT_ID,
    SCHEDULED_AT,
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


def _arn(name: str) -> str:
    return f"arn:aws:elasticache:{SOURCE}:{ACCOUNT_ID}:replicationgroup:{name}"


def _ec(acct: Account) -> Any:
    return acct.clients("elasticache", SOURCE)


def _group(
    acct: Account,
    name: str = "sessions-redis",
    *,
    encryption: str = "cmk",
    policy: str | None = "cache",
    network: bool = False,
) -> ResourceRef:
    """A Redis 7.1 replication group; ``encryption``: "cmk" (the source key), "service" or "none"."""
    request: dict[str, Any] = {
        "ReplicationGroupId": name,
        "ReplicationGroupDescription": "sessions",
        "Engine": "redis",
        "EngineVersion": "7.1",
        "CacheNodeType": "cache.r7g.large",
        "Tags": [{"Key": "team", "Value": "web"}]
        + ([{"Key": "lifeboat:policy", "Value": policy}] if policy else []),
    }
    if encryption != "none":
        request["AtRestEncryptionEnabled"] = True
    if encryption == "cmk":
        request["KmsKeyId"] = acct.source_key
    if network:
        request |= {
            "CacheSubnetGroupName": "app-private",
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
            "CacheParameterGroupName": "default.redis7",
        }
    group = _ec(acct).create_replication_group(**request)["ReplicationGroup"]
    return ResourceRef.parse(group["ARN"])


def _backup(acct: Account, ref: ResourceRef) -> tuple[ElastiCacheRedisPlugin, str]:
    return new_point(ElastiCacheRedisPlugin, acct, ref)


def _snapshots(acct: Account, group: str) -> dict[str, dict[str, Any]]:
    found = _ec(acct).describe_snapshots(ReplicationGroupId=group)["Snapshots"]
    return {s["SnapshotName"]: s for s in found}


def _tags(acct: Account, arn: str) -> dict[str, str]:
    return tags_of(_ec(acct).list_tags_for_resource(ResourceName=arn)["TagList"])


def _spec(target: str, operation_id: str, purpose: Purpose) -> RestoreSpec:
    return restore_spec(
        target, operation_id, source_tags={"team": "web"}, purpose=purpose, restored_from="lb-x"
    )


def test_discovery_finds_tagged_replication_groups_by_arn(account: Account) -> None:
    # GIVEN a cache-policy group, a prod group, and an untagged one
    sessions = _group(account)
    limits = _group(account, "rate-limits", policy="prod")
    _group(account, "scratch", policy=None)
    # WHEN Lifeboat discovers protected groups (one tag query)
    found = sorted(ElastiCacheRedisPlugin(account.clients).discover(SOURCE, "lifeboat:policy"))
    # THEN only the tagged ones, by ARN, each with its policy
    assert found == sorted([(sessions.arn, "cache"), (limits.arn, "prod")])


def test_the_source_reports_engine_version_and_key_and_a_missing_group_is_not_found(
    account: Account,
) -> None:
    # GIVEN a Redis 7.1 group encrypted at rest under a customer managed key, and an unencrypted one
    plugin = ElastiCacheRedisPlugin(account.clients)
    source = plugin.describe_source(_group(account))
    plain = plugin.describe_source(_group(account, "plain", encryption="none"))
    # THEN the engine version (read from a member cluster), the key and the endpoint are reported
    assert (source.status, source.engine, source.engine_version) == ("available", "redis", "7.1")
    assert (source.encrypted, source.kms_key_id) == (True, account.source_key)
    assert source.endpoint and source.port == 6379
    assert (plain.encrypted, plain.kms_key_id) == (False, None)
    # AND a group that does not exist is ResourceNotFound, naming it
    with pytest.raises(ResourceNotFound, match="gone-redis"):
        plugin.describe_source(ResourceRef.parse(_arn("gone-redis")))


def test_create_makes_a_tagged_snapshot_under_the_groups_key(account: Account) -> None:
    # GIVEN an encrypted group
    ref = _group(account)
    # WHEN its recovery point is created
    _, point = _backup(account, ref)
    # THEN a snapshot named after the point exists, of that group, under the group's key, with
    # Lifeboat's tags and the encryption it recorded
    snapshot = _snapshots(account, "sessions-redis")[point]
    assert (snapshot["ReplicationGroupId"], snapshot["SnapshotStatus"]) == ("sessions-redis", "available")
    assert snapshot["KmsKeyId"] == account.source_key
    assert _tags(account, snapshot["ARN"]) == tags_for(ref.arn, point) | {ENCRYPTION_TAG: "sse-kms"}


def test_creating_again_finds_the_first_snapshot_and_makes_no_second(account: Account) -> None:
    # GIVEN a recovery point made by a first run
    ref = _group(account)
    plugin, point = _backup(account, ref)
    # WHEN the step runs again (a retried Lambda, a duplicate schedule)
    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    # THEN it reports the existing point, and the group still has exactly one snapshot
    assert (again.recovery_point_id, again.created) == (point, False)
    assert list(_snapshots(account, "sessions-redis")) == [point]


def test_a_foreign_snapshot_with_our_name_is_a_conflict_and_is_left_alone(account: Account) -> None:
    # GIVEN somebody's snapshot with the point's name but without Lifeboat's tags
    ref = _group(account)
    point = point_for(ref.arn)
    _ec(account).create_snapshot(SnapshotName=point, ReplicationGroupId="sessions-redis")
    # WHEN Lifeboat creates its recovery point THEN it refuses to adopt it
    with pytest.raises(RecoveryPointConflict, match="does not carry Lifeboat's tags"):
        ElastiCacheRedisPlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))
    # AND the foreign snapshot is untouched: still untagged
    assert _tags(account, _snapshots(account, "sessions-redis")[point]["ARN"]) == {}


@pytest.mark.parametrize(
    ("encryption", "recorded", "key_checked"),
    [("cmk", "sse-kms", True), ("service", "sse-elasticache", False), ("none", "none", False)],
)
def test_a_fresh_point_passes_level_one_with_the_checks_its_encryption_allows(
    account: Account, encryption: str, recorded: str, key_checked: bool
) -> None:
    # GIVEN a point of a group under a customer key, the service-managed key, or no encryption
    ref = _group(account, encryption=encryption)
    plugin, point = _backup(account, ref)
    source = plugin.describe_source(ref)
    # WHEN it is validated against the source
    facts, checks = plugin.validate(
        SOURCE, point, source, expected_kms_key_id=source.kms_key_id, expected_tags=tags_for(ref.arn, point)
    )
    # THEN every check passes; the key is checked only where ElastiCache names one, and no size is
    names = [c.name for c in checks]
    assert [c.name for c in checks if not c.passed] == []
    assert ("kms_key" in names) is key_checked
    assert "size_gib" not in names and "node_type_recorded" in names
    assert (facts.encrypted, facts.tags[ENCRYPTION_TAG]) == (encryption != "none", recorded)


def test_a_snapshot_under_another_key_or_without_our_tags_fails_validation(account: Account) -> None:
    # GIVEN an encrypted group's point re-made under another key, and one whose tags were stripped
    ref = _group(account)
    plugin = ElastiCacheRedisPlugin(account.clients)
    source = plugin.describe_source(ref)
    other_key = new_key(account.clients, SOURCE)
    point = point_for(ref.arn)
    tags = tags_for(ref.arn, point)
    _ec(account).create_snapshot(
        SnapshotName=point,
        ReplicationGroupId="sessions-redis",
        KmsKeyId=other_key,
        Tags=aws_tags(tags),
    )
    stripped, _ = _backup(account, _group(account, "stripped"))
    stripped_point = point_for(_arn("stripped"))
    stripped_arn = _snapshots(account, "stripped")[stripped_point]["ARN"]
    _ec(account).remove_tags_from_resource(ResourceName=stripped_arn, TagKeys=["lifeboat:managed-by"])
    # WHEN they are validated
    _, keyed = plugin.validate(
        SOURCE, point, source, expected_kms_key_id=source.kms_key_id, expected_tags=tags
    )
    _, untagged = stripped.validate(
        SOURCE,
        stripped_point,
        source,
        expected_kms_key_id=source.kms_key_id,
        expected_tags=tags_for(_arn("stripped"), stripped_point),
    )
    # THEN the first fails on its key, the second on its tags
    assert [(c.name, c.actual) for c in keyed if not c.passed] == [("kms_key", other_key)]
    assert [c.name for c in untagged if not c.passed] == ["lifeboat_tags"]


def test_point_in_time_restore_is_unsupported(account: Account) -> None:
    """GIVEN a Redis group WHEN a point-in-time restore or its window is asked for THEN
    UnsupportedOperation says to restore a snapshot instead."""
    ref = _group(account)
    plugin = ElastiCacheRedisPlugin(account.clients)
    with pytest.raises(UnsupportedOperation, match="no point-in-time recovery"):
        plugin.restore_window(ref)
    with pytest.raises(UnsupportedOperation, match="no point-in-time recovery"):
        plugin.start_restore(
            None,
            _spec("sessions-pitr", "restore:1", Purpose.RESTORE),
            "restore:1",
            ref=ref,
            point_in_time=SCHEDULED_AT,
        )
    assert [
        g["ReplicationGroupId"] for g in _ec(account).describe_replication_groups()["ReplicationGroups"]
    ] == ["sessions-redis"]


def test_there_is_no_readable_snapshot_quota(account: Account) -> None:
    """GIVEN ElastiCache (no API reports a manual snapshot quota) THEN the preflight gets None."""
    assert ElastiCacheRedisPlugin(account.clients).snapshot_quota(SOURCE) is None


def test_deleting_removes_the_snapshot_and_a_missing_point_is_not_found(account: Account) -> None:
    # GIVEN a recovery point
    ref = _group(account)
    plugin, point = _backup(account, ref)
    # WHEN it is deleted THEN the snapshot is gone; describing or deleting it again is not found
    plugin.delete_recovery_point(SOURCE, point)
    assert _snapshots(account, "sessions-redis") == {}
    with pytest.raises(RecoveryPointNotFound, match=point):
        plugin.describe_recovery_point(SOURCE, point)
    with pytest.raises(RecoveryPointNotFound):
        plugin.delete_recovery_point(SOURCE, point)


def test_a_restore_inherits_the_sources_network_and_tags(account: Account) -> None:
    """GIVEN a group in a subnet group with a security group and a parameter group THEN its
    restore defaults are those (read from a member cluster) and its tags."""
    ref = _group(account, network=True)
    network, tags = ElastiCacheRedisPlugin(account.clients).restore_defaults(ref)
    assert network == RestoreNetwork(
        subnet_group="app-private",
        security_group_ids=["sg-0123456789abcdef0"],
        parameter_group="default.redis7",
    )
    assert tags == {"team": "web", "lifeboat:policy": "cache"}


def test_a_restore_creates_a_new_encrypted_tagged_group_from_the_snapshot(account: Account) -> None:
    # GIVEN a point of an encrypted group
    ref = _group(account)
    plugin, point = _backup(account, ref)
    # WHEN it is restored into a new group
    spec = _spec("sessions-restored", "restore:1", Purpose.RESTORE)
    outcome = plugin.start_restore(point, spec, "restore:1", ref=ref)
    # THEN the new group exists, seeded from that snapshot, shaped like it, under the point's key,
    # encrypted in transit, with the restore's tags; the source is untouched
    [restored] = _ec(account).describe_replication_groups(ReplicationGroupId="sessions-restored")[
        "ReplicationGroups"
    ]
    assert outcome.created
    assert (restored["CacheNodeType"], restored["Engine"]) == ("cache.r7g.large", "redis")
    assert (restored["AtRestEncryptionEnabled"], restored["KmsKeyId"]) == (True, account.source_key)
    assert restored["TransitEncryptionEnabled"] is True
    facts = plugin.describe_restored(SOURCE, "sessions-restored")
    assert facts.ready and facts.tags == spec.tags
    assert (facts.encrypted, facts.kms_key_id, facts.publicly_accessible) == (True, account.source_key, None)
    assert plugin.describe_source(ref).status == "available"


def test_a_retried_restore_finds_its_own_group_and_another_is_refused(account: Account) -> None:
    ref = _group(account)
    plugin, point = _backup(account, ref)
    spec = _spec("sessions-restored", "restore:1", Purpose.RESTORE)
    plugin.start_restore(point, spec, "restore:1", ref=ref)
    # WHEN the same operation starts again (a retried step) THEN it finds its own group
    assert not plugin.start_restore(point, spec, "restore:1", ref=ref).created
    # WHEN another operation targets the same name, or the source's THEN it is refused
    with pytest.raises(TargetExists, match="never restores over an existing resource"):
        plugin.start_restore(point, spec, "restore:2", ref=ref)
    with pytest.raises(TargetExists):
        plugin.ensure_target_free(SOURCE, "sessions-redis", "restore:2")
    plugin.ensure_target_free(SOURCE, "brand-new-name", "restore:2")


def test_teardown_refuses_other_groups_and_deletes_the_drills_own(account: Account) -> None:
    # GIVEN the source, a drill's group and a real restore's group
    ref = _group(account)
    plugin, point = _backup(account, ref)
    plugin.start_restore(point, _spec("lbdrill-sessions", "drill:1", Purpose.DRILL), "drill:1", ref=ref)
    plugin.start_restore(point, _spec("kept", "restore:9", Purpose.RESTORE), "restore:9", ref=ref)
    # WHEN teardown is asked for the source, the restore, or the drill's group by another drill
    for identifier, operation_id in (
        ("sessions-redis", "drill:1"),
        ("kept", "restore:9"),
        ("lbdrill-sessions", "drill:2"),
    ):
        with pytest.raises(TeardownRefused):
            plugin.teardown(SOURCE, identifier, operation_id)
    # WHEN the drill tears down its own group THEN only that group is deleted
    assert plugin.teardown(SOURCE, "lbdrill-sessions", "drill:1") is TeardownState.DELETING
    groups = _ec(account).describe_replication_groups()["ReplicationGroups"]
    assert {g["ReplicationGroupId"]: g["Status"] for g in groups} == {
        "sessions-redis": "available",
        "kept": "available",
    }
    # AND a second teardown finds it gone
    assert plugin.teardown(SOURCE, "lbdrill-sessions", "drill:1") is TeardownState.GONE
