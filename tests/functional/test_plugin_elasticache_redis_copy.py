"""ElastiCache Redis copies to a DR region, through the S3 export path.

moto 5.2.5 has no ElastiCache ``CopySnapshot``, so the export is tested in two honest halves:

- The export call itself is tested against botocore's real model of the ElastiCache API with
  ``botocore.stub.Stubber``: the request Lifeboat sends (names and values) and how it reacts to
  the snapshot's states and ElastiCache's errors. Nothing here shows that ElastiCache accepts the
  request, writes the files, or what its bucket grants must be: that is AWS's side, not tested.
- Everything after the export runs on moto: the test itself puts into Lifeboat's bucket of the
  source region the ``<point>-0001.rdb`` file that ElastiCache writes there on AWS, then Lifeboat
  copies it across regions, validates the copy, restores from it and deletes it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.restore import Purpose, RestoreSpec
from lifeboat.errors import (
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
    TargetExists,
    TransientAwsError,
)
from lifeboat.local.faults import FaultInjector, FaultPlan
from lifeboat.plugins.elasticache import s3_transfer
from lifeboat.plugins.elasticache.facts import ENCRYPTION_TAG
from lifeboat.plugins.elasticache.plugin import ElastiCacheRedisPlugin
from lifeboat.plugins.elasticache.s3_transfer import ELASTICACHE_CANONICAL_ID, RdbBuckets, bucket_name
from lifeboat.service.regions import is_outage
from moto.backends import get_backend

from .plugin_aws import (
    ACCOUNT_ID,
    ALL_PUBLIC_ACCESS_BLOCKED,
    DR,
    SOURCE,
    Account,
    aws_tags,
    bucket_exists,
    new_key,
    new_point,
    point_for,
    public_access_block,
    restore_spec,
    tags_for,
    tags_of,
)

SOURCE_BUCKET = bucket_name(ACCOUNT_ID, SOURCE)
DR_BUCKET = bucket_name(ACCOUNT_ID, DR)
RDB = b"REDIS0011" + bytes(range(256)) * 64


def _group(acct: Account, name: str = "sessions-redis", *, encrypted: bool = True) -> ResourceRef:
    request: dict[str, Any] = {
        "ReplicationGroupId": name,
        "ReplicationGroupDescription": "sessions",
        "Engine": "redis",
        "EngineVersion": "7.1",
        "CacheNodeType": "cache.r7g.large",
        "Tags": [{"Key": "lifeboat:policy", "Value": "prod"}],
    }
    if encrypted:
        request |= {"AtRestEncryptionEnabled": True, "KmsKeyId": acct.source_key}
    group = acct.clients("elasticache", SOURCE).create_replication_group(**request)["ReplicationGroup"]
    return ResourceRef.parse(group["ARN"])


def _point(acct: Account, ref: ResourceRef) -> str:
    return new_point(ElastiCacheRedisPlugin, acct, ref)[1]


def _exported_by_elasticache(acct: Account, point: str, files: dict[str, bytes] | None = None) -> None:
    """What ElastiCache writes on AWS after CopySnapshot(TargetBucket=...): one .rdb file per
    shard, named after the export, in Lifeboat's bucket of the snapshot's region."""
    s3 = acct.clients("s3", SOURCE)
    s3.create_bucket(Bucket=SOURCE_BUCKET)
    for key, body in (files or {f"{point}-0001.rdb": RDB}).items():
        s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body)


def _dr_object(acct: Account, point: str, n: int = 1) -> tuple[dict[str, Any], dict[str, str], bytes]:
    s3, key = acct.clients("s3", DR), f"{point}/{point}-{n:04d}.rdb"
    head = s3.head_object(Bucket=DR_BUCKET, Key=key)
    tags = tags_of(s3.get_object_tagging(Bucket=DR_BUCKET, Key=key)["TagSet"])
    return head, tags, s3.get_object(Bucket=DR_BUCKET, Key=key)["Body"].read()


def _copied(acct: Account, *, kms_key: str | None = None) -> tuple[ResourceRef, str, ElastiCacheRedisPlugin]:
    """GIVEN helper: a point of an encrypted group, exported, and copied to the DR region."""
    ref = _group(acct)
    point = _point(acct, ref)
    _exported_by_elasticache(acct, point)
    plugin = ElastiCacheRedisPlugin(acct.clients)
    plugin.copy_recovery_point(ref, point, DR, kms_key or acct.dr_key)
    return ref, point, plugin


# --- the export: request shape only (botocore Stubber over the real service model) ------------
class _StubbedElastiCache:
    """Clients for the plugin: ElastiCache answered by a Stubber, every other service by moto."""

    def __init__(self, acct: Account) -> None:
        self.acct = acct
        self.elasticache = boto3.client("elasticache", region_name=SOURCE)
        self.stub = Stubber(self.elasticache)

    def __call__(self, service: str, region: str) -> Any:
        return self.elasticache if service == "elasticache" else self.acct.clients(service, region)

    def snapshot(self, point: str, status: str) -> None:
        arn = f"arn:aws:elasticache:{SOURCE}:{ACCOUNT_ID}:snapshot:{point}"
        snapshot = {
            "SnapshotName": point,
            "ARN": arn,
            "SnapshotStatus": status,
            "Engine": "redis",
            "EngineVersion": "7.1",
            "CacheNodeType": "cache.r7g.large",
            "NumNodeGroups": 1,
        }
        self.stub.add_response("describe_snapshots", {"Snapshots": [snapshot]}, {"SnapshotName": point})
        tags = aws_tags(tags_for(ARN, point))
        self.stub.add_response("list_tags_for_resource", {"TagList": tags}, {"ResourceName": arn})


ARN = f"arn:aws:elasticache:{SOURCE}:{ACCOUNT_ID}:replicationgroup:sessions-redis"
POINT = point_for(ARN)
EXPORT_REQUEST = {"SourceSnapshotName": POINT, "TargetSnapshotName": POINT, "TargetBucket": SOURCE_BUCKET}


def test_the_export_asks_elasticache_to_copy_the_snapshot_into_lifeboats_bucket_of_its_region(
    account: Account,
) -> None:
    # GIVEN an available snapshot that was never exported (ElastiCache stubbed, S3 on moto)
    clients = _StubbedElastiCache(account)
    clients.snapshot(POINT, "available")
    clients.stub.add_response(
        "copy_snapshot", {"Snapshot": {"SnapshotName": POINT, "SnapshotStatus": "exporting"}}, EXPORT_REQUEST
    )
    # WHEN the copy step runs
    with clients.stub, pytest.raises(ResourceNotReady, match="being exported to s3://" + SOURCE_BUCKET):
        ElastiCacheRedisPlugin(clients).copy_recovery_point(ResourceRef.parse(ARN), POINT, DR, account.dr_key)
    # THEN CopySnapshot was sent with exactly the point's name as source and target and the source
    # region's bucket (botocore validated it against ElastiCache's model), and the step waits
    clients.stub.assert_no_pending_responses()
    # AND that bucket was made ready for ElastiCache first: private, ElastiCache's canonical user
    # may list, write and read its permissions (AWS's "Exporting a backup" grant)
    s3 = account.clients("s3", SOURCE)
    grants = {
        (g["Grantee"].get("ID"), g["Permission"]) for g in s3.get_bucket_acl(Bucket=SOURCE_BUCKET)["Grants"]
    }
    assert {(ELASTICACHE_CANONICAL_ID, p) for p in ("READ", "WRITE", "READ_ACP")} <= grants
    assert public_access_block(account.clients, SOURCE, SOURCE_BUCKET) == ALL_PUBLIC_ACCESS_BLOCKED
    # AND nothing reached the DR region yet
    assert not bucket_exists(account.clients, DR, DR_BUCKET)


def test_while_the_snapshot_is_exporting_the_step_waits_without_a_second_export(account: Account) -> None:
    # GIVEN a snapshot ElastiCache is exporting (a first attempt, or the other DR region's step)
    clients = _StubbedElastiCache(account)
    clients.snapshot(POINT, "exporting")
    # WHEN the copy step runs THEN it waits (ResourceNotReady) and sends no CopySnapshot (the
    # Stubber would refuse an unexpected call)
    with clients.stub, pytest.raises(ResourceNotReady, match="is exporting"):
        ElastiCacheRedisPlugin(clients).copy_recovery_point(ResourceRef.parse(ARN), POINT, DR, account.dr_key)
    clients.stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "raised", "message"),
    [
        # Another DR region's step exported under the same name first: wait for its files.
        ("SnapshotAlreadyExistsFault", ResourceNotReady, "being exported"),
        # The snapshot became busy (an export just started): wait.
        ("InvalidSnapshotState", ResourceNotReady, "InvalidSnapshotState"),
        # CopyToRegion backs off from a quota, as for the other types.
        ("SnapshotQuotaExceededFault", SnapshotQuotaExceeded, "SnapshotQuotaExceededFault"),
    ],
)
def test_elasticaches_refusals_of_the_export_become_lifeboats_errors(
    account: Account, code: str, raised: type[Exception], message: str
) -> None:
    # GIVEN an available snapshot WHEN ElastiCache refuses the export with ``code``
    clients = _StubbedElastiCache(account)
    clients.snapshot(POINT, "available")
    clients.stub.add_client_error("copy_snapshot", service_error_code=code, expected_params=EXPORT_REQUEST)
    # THEN the step raises the Lifeboat error the workflow retries (or waits on)
    with clients.stub, pytest.raises(raised, match=message):
        ElastiCacheRedisPlugin(clients).copy_recovery_point(ResourceRef.parse(ARN), POINT, DR, account.dr_key)


# --- after the export: on moto -------------------------------------------------------------
def test_a_copy_lands_in_the_dr_region_under_its_key_with_the_points_tags(account: Account) -> None:
    # GIVEN a point of a group under a customer key, exported by ElastiCache (placed by the test)
    ref = _group(account)
    point = _point(account, ref)
    _exported_by_elasticache(account, point)
    # WHEN it is copied to the DR region
    outcome = ElastiCacheRedisPlugin(account.clients).copy_recovery_point(ref, point, DR, account.dr_key)
    # THEN the .rdb file is in Lifeboat's bucket of us-west-2, byte for byte, encrypted with the
    # us-west-2 key, tagged as the point, readable by ElastiCache for a seed, with what a restore
    # needs in its metadata
    head, tags, body = _dr_object(account, point)
    assert outcome.created and outcome.region == DR
    assert body == RDB
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", account.dr_key)
    assert tags == tags_for(ref.arn, point) | {ENCRYPTION_TAG: "sse-kms"}
    [snapshot] = account.clients("elasticache", SOURCE).describe_snapshots(SnapshotName=point)["Snapshots"]
    assert head["Metadata"] == {
        "lifeboat-engine": "redis",
        "lifeboat-engine-version": "7.1",
        "lifeboat-node-type": "cache.r7g.large",
        "lifeboat-shards": "1",
        "lifeboat-export-bytes": str(len(RDB)),
        "lifeboat-snapshot-arn": snapshot["ARN"],
    }
    s3 = account.clients("s3", DR)
    acl = s3.get_object_acl(Bucket=DR_BUCKET, Key=f"{point}/{point}-0001.rdb")["Grants"]
    assert {(g["Grantee"]["ID"], g["Permission"]) for g in acl} >= {
        (ELASTICACHE_CANONICAL_ID, "READ"),
        (ELASTICACHE_CANONICAL_ID, "READ_ACP"),
    }
    # AND the DR bucket Lifeboat created is private and aborts abandoned uploads
    assert public_access_block(account.clients, DR, DR_BUCKET) == ALL_PUBLIC_ACCESS_BLOCKED
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=DR_BUCKET)["Rules"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize("outage", ["unreachable", "503"])
def test_a_dr_region_that_is_down_fails_the_copy_as_an_outage_the_breaker_knows(
    account: Account, outage: str
) -> None:
    # GIVEN an exported point, and every call to the DR region failing (issue 20)
    ref = _group(account)
    point = _point(account, ref)
    _exported_by_elasticache(account, point)
    injector = FaultInjector(FaultPlan(seed=1, error_rate=0.0, down_regions=frozenset({DR}), outage=outage))
    # WHEN it is copied there THEN the copy fails as the region's outage, which trips the copy
    # steps' breaker (service/regions.py), and nothing is left in the DR region
    events = boto3._get_default_session().events
    with injector.active(events), pytest.raises(TransientAwsError) as raised:
        ElastiCacheRedisPlugin(account.clients).copy_recovery_point(ref, point, DR, account.dr_key)
    assert is_outage(raised.value), raised.value
    assert injector.injected["region-down"] > 0
    assert not bucket_exists(account.clients, DR, DR_BUCKET)


def test_copying_again_finds_the_copy_and_copies_nothing(account: Account) -> None:
    # GIVEN a point already copied to the DR region
    ref, point, plugin = _copied(account)
    first, _, _ = _dr_object(account, point)
    # WHEN the step runs again (a retried Lambda, a duplicate run)
    again = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    # THEN it reports the existing copy; the file was not written a second time
    second, _, _ = _dr_object(account, point)
    assert (again.created, second["LastModified"], second["ETag"]) == (
        False,
        first["LastModified"],
        first["ETag"],
    )
    assert [o["Key"] for o in account.clients("s3", DR).list_objects_v2(Bucket=DR_BUCKET)["Contents"]] == [
        f"{point}/{point}-0001.rdb"
    ]


def test_a_large_file_is_copied_in_parts_and_a_crashed_attempts_upload_is_aborted(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN parts of 5 MiB (S3's smallest; 256 MiB in production), a 12 MiB export of two shards...
    monkeypatch.setattr(s3_transfer, "PART_BYTES", 5 * 1024 * 1024)
    ref = _group(account)
    point = _point(account, ref)
    big = bytes(range(256)) * (12 * 4096)
    backend = get_backend("elasticache")[ACCOUNT_ID][SOURCE]
    backend.snapshots[point].num_node_groups = 2  # a cluster-mode snapshot of 2 shards
    _exported_by_elasticache(account, point, {f"{point}-0001.rdb": big, f"{point}-0002.rdb": RDB})
    # ... and an unfinished upload of the first file, left by an attempt that crashed mid-copy
    plugin = ElastiCacheRedisPlugin(account.clients)
    RdbBuckets(account.clients, lambda _region: ACCOUNT_ID).ensure_bucket(DR)
    s3 = account.clients("s3", DR)
    s3.create_multipart_upload(Bucket=DR_BUCKET, Key=f"{point}/{point}-0001.rdb")
    # WHEN the copy step runs
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    # THEN both files are complete under the DR key, the big one assembled from its parts, and no
    # unfinished upload is left behind
    head, tags, body = _dr_object(account, point, 1)
    assert body == big and head["SSEKMSKeyId"] == account.dr_key and tags[ENCRYPTION_TAG] == "sse-kms"
    assert head["ETag"].endswith('-3"')  # a multipart object of 3 parts
    assert _dr_object(account, point, 2)[2] == RDB
    assert head["Metadata"]["lifeboat-shards"] == "2"
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=DR_BUCKET)
    # AND the copy validates: both shards, each as large as its export
    facts, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key,
        expected_tags=tags_for(ref.arn, point),
    )
    assert facts.ready and [c.name for c in checks if not c.passed] == []


def test_a_half_done_copy_resumes_with_the_missing_file_only(account: Account) -> None:
    # GIVEN a two-shard export of which the first file was copied before the step crashed
    ref = _group(account)
    point = _point(account, ref)
    get_backend("elasticache")[ACCOUNT_ID][SOURCE].snapshots[point].num_node_groups = 2
    _exported_by_elasticache(account, point, {f"{point}-0001.rdb": RDB, f"{point}-0002.rdb": RDB[:100]})
    plugin = ElastiCacheRedisPlugin(account.clients)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    account.clients("s3", DR).delete_object(Bucket=DR_BUCKET, Key=f"{point}/{point}-0002.rdb")
    first, _, _ = _dr_object(account, point, 1)
    # WHEN the step runs again
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    # THEN the missing file is copied and the one already there is not written again
    assert _dr_object(account, point, 1)[0]["LastModified"] == first["LastModified"]
    assert _dr_object(account, point, 2)[2] == RDB[:100]


def test_a_foreign_object_at_the_copys_key_is_a_conflict_and_is_left_alone(account: Account) -> None:
    # GIVEN an object at the copy's key without Lifeboat's tags
    ref = _group(account)
    point = _point(account, ref)
    _exported_by_elasticache(account, point)
    plugin = ElastiCacheRedisPlugin(account.clients)
    RdbBuckets(account.clients, lambda _region: ACCOUNT_ID).ensure_bucket(DR)
    s3 = account.clients("s3", DR)
    s3.put_object(Bucket=DR_BUCKET, Key=f"{point}/{point}-0001.rdb", Body=b"someone else's")
    # WHEN Lifeboat copies the point THEN it refuses to adopt it, and the object is untouched
    with pytest.raises(RecoveryPointConflict, match="does not carry Lifeboat's tags"):
        plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    assert (
        s3.get_object(Bucket=DR_BUCKET, Key=f"{point}/{point}-0001.rdb")["Body"].read() == b"someone else's"
    )


def test_a_copy_validates_in_the_dr_region_with_its_size_as_evidence(account: Account) -> None:
    # GIVEN a copy in the DR region
    ref, point, plugin = _copied(account)
    # WHEN it is validated against the source, expecting the DR key
    facts, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key,
        expected_tags=tags_for(ref.arn, point),
    )
    # THEN every check passes, the key checked is the DR one, and the size is recorded
    by_name = {c.name: c for c in checks}
    assert [c.name for c in checks if not c.passed] == []
    assert (facts.region, facts.kms_key_id, facts.encrypted) == (DR, account.dr_key, True)
    assert by_name["kms_key"].actual == account.dr_key
    assert by_name["size_bytes_recorded"].actual == len(RDB)
    assert by_name["rdb_files"].actual == {f"{point}/{point}-0001.rdb": len(RDB)}


def test_a_copy_under_another_key_without_our_tags_or_missing_a_shard_fails_validation(
    account: Account,
) -> None:
    # GIVEN a copy made under another us-west-2 key
    other_key = new_key(account.clients, DR)
    ref, point, plugin = _copied(account, kms_key=other_key)
    source = plugin.describe_source(ref)
    key = f"{point}/{point}-0001.rdb"

    def failed() -> list[str]:
        _, checks = plugin.validate(
            DR, point, source, expected_kms_key_id=account.dr_key, expected_tags=tags_for(ref.arn, point)
        )
        return [c.name for c in checks if not c.passed]

    # THEN it fails on its key
    assert failed() == ["kms_key"]
    # WHEN its tags are stripped THEN it also fails on its tags
    s3 = account.clients("s3", DR)
    s3.delete_object_tagging(Bucket=DR_BUCKET, Key=key)
    assert failed() == ["kms_key", "lifeboat_tags"]
    # WHEN it claims two shards but holds one file THEN it is not available and its files fail
    s3.copy_object(
        Bucket=DR_BUCKET,
        Key=key,
        CopySource={"Bucket": DR_BUCKET, "Key": key},
        Metadata=_dr_object(account, point)[0]["Metadata"] | {"lifeboat-shards": "2"},
        MetadataDirective="REPLACE",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=other_key,
    )
    assert failed() == ["available", "kms_key", "lifeboat_tags", "rdb_files", "size_bytes_recorded"]


def test_an_unencrypted_groups_copy_is_under_s3s_key_and_validates(account: Account) -> None:
    # GIVEN a point of an unencrypted group, exported
    ref = _group(account, encrypted=False)
    point = _point(account, ref)
    _exported_by_elasticache(account, point)
    plugin = ElastiCacheRedisPlugin(account.clients)
    # WHEN it is copied with no key (the workflow passes none for an unencrypted source)
    plugin.copy_recovery_point(ref, point, DR, None)
    # THEN the file is under S3's own key, and the copy validates as unencrypted like its source
    head, _, _ = _dr_object(account, point)
    assert (head["ServerSideEncryption"], head.get("SSEKMSKeyId")) == ("AES256", None)
    facts, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=None,
        expected_tags=tags_for(ref.arn, point),
    )
    assert facts.encrypted is False and [c.name for c in checks if not c.passed] == []


def _dr_drill_spec(target: str, operation_id: str) -> RestoreSpec:
    """A drill's restore in the DR region (a drill's target has no deletion protection)."""
    return restore_spec(
        target,
        operation_id,
        source_tags={"team": "web"},
        purpose=Purpose.DRILL,
        region=DR,
        restored_from="lb-x",
    )


def test_a_restore_in_the_dr_region_seeds_a_new_group_from_the_copys_files(account: Account) -> None:
    # GIVEN a copy of an encrypted group's point in the DR region
    ref, point, plugin = _copied(account)
    spec = _dr_drill_spec("sessions-dr", "drill:1")
    # WHEN it is restored there
    outcome = plugin.start_restore(point, spec, "drill:1", ref=ref)
    # THEN a new group exists in us-west-2, seeded from the copy's S3 ARN (moto stores it; the API
    # does not return it), shaped like the snapshot, encrypted under the us-west-2 key, tagged
    [group] = account.clients("elasticache", DR).describe_replication_groups(
        ReplicationGroupId="sessions-dr"
    )["ReplicationGroups"]
    stored = get_backend("elasticache")[ACCOUNT_ID][DR].replication_groups["sessions-dr"]
    assert outcome.created
    assert stored.snapshot_arns == [f"arn:aws:s3:::{DR_BUCKET}/{point}/{point}-0001.rdb"]
    assert (group["CacheNodeType"], group["AtRestEncryptionEnabled"]) == ("cache.r7g.large", True)
    assert (group["KmsKeyId"], group["TransitEncryptionEnabled"]) == (account.dr_key, True)
    assert plugin.describe_restored(DR, "sessions-dr").tags == spec.tags
    # AND a retried start finds its own group; another operation is refused the name
    assert not plugin.start_restore(point, spec, "drill:1", ref=ref).created
    with pytest.raises(TargetExists):
        plugin.start_restore(point, _dr_drill_spec("sessions-dr", "drill:2"), "drill:2", ref=ref)


def test_cleanup_deletes_the_copy_and_the_snapshot_with_its_export(account: Account) -> None:
    # GIVEN a point copied to the DR region (its export still in the source region)
    ref, point, plugin = _copied(account)
    # WHEN retention deletes the DR copy
    plugin.delete_recovery_point(DR, point)
    # THEN its files are gone and the point is no longer there
    assert "Contents" not in account.clients("s3", DR).list_objects_v2(Bucket=DR_BUCKET)
    with pytest.raises(RecoveryPointNotFound):
        plugin.describe_recovery_point(DR, point)
    with pytest.raises(RecoveryPointNotFound):
        plugin.delete_recovery_point(DR, point)
    # WHEN retention deletes the point in the group's region
    plugin.delete_recovery_point(SOURCE, point)
    # THEN the snapshot and the export's files are gone
    assert (
        account.clients("elasticache", SOURCE).describe_snapshots(ReplicationGroupId=ref.name)["Snapshots"]
        == []
    )
    assert "Contents" not in account.clients("s3", SOURCE).list_objects_v2(Bucket=SOURCE_BUCKET)
