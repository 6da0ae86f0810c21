"""EBS volumes on moto: tagged snapshots found by tag, copies under the DR key, validation, restores
into a new named volume, and drill teardown."""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import RECOVERY_POINT_TAG
from lifeboat.domain.restore import Purpose, RestoreSpec, restored_checks
from lifeboat.errors import (
    RecoveryPointConflict,
    RecoveryPointNotFound,
    ResourceNotFound,
    TargetExists,
    TeardownRefused,
    UnsupportedOperation,
)
from lifeboat.plugins.base import TeardownState
from lifeboat.plugins.ebs_volume import EbsVolumePlugin

from .plugin_aws import (
    ACCOUNT_ID,
    DR,
    SCHEDULED_AT,
    SOURCE,
    Account,
    aws_tags,
    new_point,
    point_for,
    restore_spec,
    tags_for,
    tags_of,
)


def _volume(
    acct: Account,
    *,
    size: int = 50,
    encrypted: bool = True,
    policy: str | None = "prod",
    zone: str = f"{SOURCE}a",
    name: str | None = None,
    performance: dict[str, object] | None = None,
) -> ResourceRef:
    request: dict[str, object] = {"AvailabilityZone": zone, "Size": size} | (performance or {})
    if encrypted:
        request |= {"Encrypted": True, "KmsKeyId": acct.source_key}
    tags = [{"Key": "lifeboat:policy", "Value": policy}] if policy else []
    tags += [{"Key": "Name", "Value": name}] if name else []
    if tags:
        request["TagSpecifications"] = [{"ResourceType": "volume", "Tags": tags}]
    volume_id = acct.clients("ec2", SOURCE).create_volume(**request)["VolumeId"]
    return ResourceRef.parse(f"arn:aws:ec2:{SOURCE}:{ACCOUNT_ID}:volume/{volume_id}")


def _ours(acct: Account, region: str, point: str) -> list[dict[str, Any]]:
    """The snapshots in ``region`` tagged as the recovery point ``point``."""
    return list(
        acct.clients("ec2", region).describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": f"tag:{RECOVERY_POINT_TAG}", "Values": [point]}]
        )["Snapshots"]
    )


def _snapshot(acct: Account, ref: ResourceRef) -> tuple[EbsVolumePlugin, str]:
    return new_point(EbsVolumePlugin, acct, ref)


def test_discovery_finds_tagged_volumes_with_their_arn(account: Account) -> None:
    """GIVEN a tagged and an untagged volume WHEN discovering THEN only the tagged one, by ARN."""
    tagged = _volume(account)
    _volume(account, policy=None)

    found = list(EbsVolumePlugin(account.clients).discover(SOURCE, "lifeboat:policy"))

    assert found == [(tagged.arn, "prod")]


def test_snapshot_is_created_once_and_validates(account: Account) -> None:
    """GIVEN an encrypted 50 GiB volume WHEN the snapshot step runs twice THEN exactly one
    snapshot carries the recovery point tag, completed, encrypted with the source key, 50 GiB."""
    ref = _volume(account)
    plugin = EbsVolumePlugin(account.clients)
    point = point_for(ref.arn)

    first = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    source = plugin.describe_source(ref)
    facts, checks = plugin.validate(
        SOURCE, point, source, expected_kms_key_id=account.source_key, expected_tags=tags_for(ref.arn, point)
    )

    assert (first.created, again.created) == (True, False)
    assert len(_ours(account, SOURCE, point)) == 1
    assert (facts.size_gib, facts.kms_key_id) == (50, account.source_key)
    assert all(check.passed for check in checks), checks


def test_an_attached_volume_can_be_backed_up(account: Account) -> None:
    """GIVEN a volume attached to an instance (in-use) THEN the preflight sees it as available."""
    ref = _volume(account)
    ec2 = account.clients("ec2", SOURCE)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": f"{SOURCE}a"}
    )["Instances"][0]["InstanceId"]
    ec2.attach_volume(VolumeId=ref.name, InstanceId=instance, Device="/dev/sdf")

    assert EbsVolumePlugin(account.clients).describe_source(ref).status == "available"


def test_copy_lands_in_the_dr_region_under_the_dr_key_once(account: Account) -> None:
    """GIVEN an encrypted volume snapshot WHEN it is copied to us-west-2 with the us-west-2 key,
    twice THEN one copy exists there, encrypted with that key, with Lifeboat's tags."""
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)

    first = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    again = plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    _, checks = plugin.validate(
        DR,
        point,
        plugin.describe_source(ref),
        expected_kms_key_id=account.dr_key,
        expected_tags=tags_for(ref.arn, point),
    )

    assert (first.created, again.created) == (True, False)
    [copy] = _ours(account, DR, point)
    assert copy["Encrypted"] and copy["KmsKeyId"] == account.dr_key
    assert all(check.passed for check in checks), checks


def test_an_unencrypted_volume_copies_unencrypted(account: Account) -> None:
    """GIVEN an unencrypted volume WHEN copied without a key THEN the copy validates, unencrypted."""
    ref = _volume(account, encrypted=False)
    plugin, point = _snapshot(account, ref)

    plugin.copy_recovery_point(ref, point, DR, None)
    facts, checks = plugin.validate(
        DR, point, plugin.describe_source(ref), expected_kms_key_id=None, expected_tags={}
    )

    assert (facts.encrypted, facts.kms_key_id) == (False, None)
    assert all(check.passed for check in checks)


def test_a_snapshot_of_another_size_fails_validation(account: Account) -> None:
    """GIVEN a volume grown to 80 GiB after its 50 GiB snapshot WHEN validating against the
    grown source THEN the size check fails with both sizes."""
    ref = _volume(account, size=50)
    plugin, point = _snapshot(account, ref)
    grown = plugin.describe_source(ref).model_copy(update={"size_gib": 80})

    _, checks = plugin.validate(
        SOURCE, point, grown, expected_kms_key_id=account.source_key, expected_tags={}
    )

    assert [(c.name, c.expected, c.actual) for c in checks if not c.passed] == [("size_gib", 80, 50)]


def test_a_foreign_snapshot_with_our_tag_is_a_conflict(account: Account) -> None:
    """GIVEN a snapshot someone tagged with our recovery point id but not as managed by Lifeboat
    WHEN the snapshot step runs THEN it refuses to adopt it."""
    ref = _volume(account)
    point = point_for(ref.arn)
    account.clients("ec2", SOURCE).create_snapshot(
        VolumeId=ref.name,
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": aws_tags({RECOVERY_POINT_TAG: point})}],
    )

    with pytest.raises(RecoveryPointConflict):
        EbsVolumePlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))


def test_delete_removes_only_that_recovery_point(account: Account) -> None:
    """GIVEN a recovery point WHEN it is deleted THEN describing it is RecoveryPointNotFound."""
    plugin, point = _snapshot(account, _volume(account))

    plugin.delete_recovery_point(SOURCE, point)

    with pytest.raises(RecoveryPointNotFound):
        plugin.describe_recovery_point(SOURCE, point)


def _second_snapshot(acct: Account, ref: ResourceRef, region: str, point: str) -> str:
    """GIVEN helper: a racing writer's second snapshot of ``point`` in ``region``, left behind
    because its maker lost CreateSnapshot's (or CopySnapshot's) answer."""
    ec2 = acct.clients("ec2", region)
    if region == SOURCE:
        return str(
            ec2.create_snapshot(
                VolumeId=ref.name, TagSpecifications=_tag_spec(aws_tags(tags_for(ref.arn, point)))
            )["SnapshotId"]
        )
    [source] = _ours(acct, SOURCE, point)
    return str(
        ec2.copy_snapshot(
            SourceRegion=SOURCE,
            SourceSnapshotId=source["SnapshotId"],
            TagSpecifications=_tag_spec(aws_tags(tags_for(ref.arn, point))),
        )["SnapshotId"]
    )


def _tag_spec(tags: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"ResourceType": "snapshot", "Tags": tags}]


def test_a_racing_writers_second_snapshot_is_deleted_by_the_next_step_that_looks(account: Account) -> None:
    """GIVEN a recovery point with a second snapshot a racing execution made and never deleted
    (its answer was lost) WHEN the snapshot step is retried THEN the first snapshot is the point
    and the other is gone: the account holds one snapshot per point, the one the point names."""
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    _second_snapshot(account, ref, SOURCE, point)

    again = plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))

    assert again.created is False
    [kept] = _ours(account, SOURCE, point)
    assert plugin.describe_recovery_point(SOURCE, point).arn.endswith(kept["SnapshotId"])


def test_a_racing_writers_second_copy_is_deleted_by_the_next_copy_step(account: Account) -> None:
    """GIVEN a DR copy and a second copy of the same point a racing execution left behind WHEN the
    copy step is retried THEN one copy remains in the DR region, under the DR key."""
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    _second_snapshot(account, ref, DR, point)

    again = plugin.copy_recovery_point(ref, point, DR, account.dr_key)

    assert again.created is False
    [kept] = _ours(account, DR, point)
    assert plugin.describe_recovery_point(DR, point).arn.endswith(kept["SnapshotId"])


def test_deleting_a_point_deletes_a_racing_writers_second_with_it(account: Account) -> None:
    """GIVEN a point with two snapshots WHEN retention deletes the point THEN none is left behind."""
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    _second_snapshot(account, ref, SOURCE, point)

    plugin.delete_recovery_point(SOURCE, point)

    assert _ours(account, SOURCE, point) == []


def test_a_deleted_volume_is_resource_not_found(account: Account) -> None:
    """GIVEN a volume ARN that no longer exists WHEN the preflight describes it THEN ResourceNotFound."""
    ref = ResourceRef.parse(f"arn:aws:ec2:{SOURCE}:{ACCOUNT_ID}:volume/vol-0123456789abcdef0")

    with pytest.raises(ResourceNotFound):
        EbsVolumePlugin(account.clients).describe_source(ref)


# --- restores -------------------------------------------------------------------------------
def _spec(
    ref: ResourceRef,
    target: str,
    operation: str,
    *,
    region: str = SOURCE,
    purpose: Purpose = Purpose.RESTORE,
    source_tags: dict[str, str] | None = None,
    network: RestoreNetwork | None = None,
) -> RestoreSpec:
    return restore_spec(
        target,
        operation,
        source_tags={"team": "build"} if source_tags is None else source_tags,
        purpose=purpose,
        region=region,
        resource_arn=ref.arn,
        network=network,
    )


def _named(acct: Account, region: str, name: str) -> list[dict[str, Any]]:
    """The volumes in ``region`` whose Name tag is ``name``."""
    volumes = acct.clients("ec2", region).describe_volumes(Filters=[{"Name": "tag:Name", "Values": [name]}])
    return list(volumes["Volumes"])


def _tags(volume: dict[str, Any]) -> dict[str, str]:
    return tags_of(volume.get("Tags"))


def test_a_restore_of_the_dr_copy_creates_a_named_volume_under_the_dr_key(account: Account) -> None:
    # GIVEN an encrypted gp3 volume (4,000 IOPS, 250 MiB/s) whose point is copied to us-west-2
    ref = _volume(
        account, zone=f"{SOURCE}b", performance={"VolumeType": "gp3", "Iops": 4000, "Throughput": 250}
    )
    plugin, point = _snapshot(account, ref)
    plugin.copy_recovery_point(ref, point, DR, account.dr_key)
    # WHEN the copy is restored into us-west-2 with no zone asked for
    spec = _spec(ref, "build-cache-dr", "restore:1", region=DR)
    assert plugin.start_restore(point, spec, "restore:1", ref=ref).created
    # THEN one new volume named after the target is in us-west-2's first zone, encrypted with that
    # region's key, as big and as fast as the source, tagged with where it came from
    [volume] = _named(account, DR, "build-cache-dr")
    assert volume["AvailabilityZone"] == f"{DR}a"
    assert (volume["Encrypted"], volume["KmsKeyId"], volume["Size"]) == (True, account.dr_key, 50)
    assert (volume["VolumeType"], volume["Iops"], volume["Throughput"]) == ("gp3", 4000, 250)
    assert _tags(volume)["lifeboat:restored-from"] == "lb-point"
    assert _tags(volume)["lifeboat:restore-operation"] == "restore:1"
    # AND it is ready, has no endpoint, and passes every level-1 check (a volume has no engine
    # or deletion protection)
    facts = plugin.describe_restored(DR, "build-cache-dr")
    assert facts.ready and facts.endpoint is None
    assert facts.arn == f"arn:aws:ec2:{DR}:{ACCOUNT_ID}:volume/{volume['VolumeId']}"
    checks = restored_checks(
        facts,
        encrypted=True,
        kms_key_id=account.dr_key,
        engine=None,
        deletion_protection=True,
        expected_tags=spec.tags,
    )
    assert [c.name for c in checks if not c.passed] == []


def test_a_restore_in_the_source_region_uses_the_sources_zone_unless_one_is_asked_for(
    account: Account,
) -> None:
    # GIVEN a volume named build-cache in us-east-1b, and what a restore inherits from it
    ref = _volume(account, zone=f"{SOURCE}b", name="build-cache")
    plugin, point = _snapshot(account, ref)
    network, source_tags = plugin.restore_defaults(ref)
    assert (network.availability_zone, source_tags) == (f"{SOURCE}b", {"lifeboat:policy": "prod"})
    # WHEN it is restored with the inherited settings, and once more into a zone asked for
    inherited = _spec(ref, "cache-restored", "restore:1", source_tags=source_tags, network=network)
    plugin.start_restore(point, inherited, "restore:1", ref=ref)
    asked = _spec(ref, "cache-in-c", "restore:2", network=RestoreNetwork(availability_zone=f"{SOURCE}c"))
    plugin.start_restore(point, asked, "restore:2", ref=ref)
    # THEN the first is in the source's zone and named after its target (not after the source)
    [first] = _named(account, SOURCE, "cache-restored")
    assert first["AvailabilityZone"] == f"{SOURCE}b"
    assert (first["KmsKeyId"], _tags(first)["lifeboat:policy"]) == (account.source_key, "prod")
    [second] = _named(account, SOURCE, "cache-in-c")
    assert second["AvailabilityZone"] == f"{SOURCE}c"
    assert len(_named(account, SOURCE, "build-cache")) == 1  # only the source carries its name


def test_a_retried_restore_creates_nothing_new_and_another_operation_is_refused(account: Account) -> None:
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    spec = _spec(ref, "cache-r", "restore:1")
    plugin.start_restore(point, spec, "restore:1", ref=ref)
    # WHEN the same operation starts again (a retried step) THEN it finds its own volume
    assert not plugin.start_restore(point, spec, "restore:1", ref=ref).created
    [volume] = _named(account, SOURCE, "cache-r")
    # WHEN another operation targets the same name THEN TargetExists, and nothing is created or tagged
    with pytest.raises(TargetExists, match="never restores over an existing resource"):
        plugin.start_restore(point, _spec(ref, "cache-r", "restore:2"), "restore:2", ref=ref)
    with pytest.raises(TargetExists):
        plugin.ensure_target_free(SOURCE, "cache-r", "restore:2")
    assert _named(account, SOURCE, "cache-r") == [volume]
    plugin.ensure_target_free(SOURCE, "brand-new-name", "restore:2")


def test_a_volume_someone_named_like_the_target_is_never_restored_over(account: Account) -> None:
    # GIVEN a volume that is not Lifeboat's, named like the restore target
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    _volume(account, policy=None, name="scratch")
    # WHEN a restore targets that name THEN TargetExists, and still only that volume has the name
    with pytest.raises(TargetExists):
        plugin.start_restore(point, _spec(ref, "scratch", "restore:1"), "restore:1", ref=ref)
    [volume] = _named(account, SOURCE, "scratch")
    assert _tags(volume) == {"Name": "scratch"}


def test_teardown_deletes_only_the_drills_own_volume(account: Account) -> None:
    # GIVEN the source, a drill's volume and a restore's volume made from its point
    ref = _volume(account, name="build-cache")
    plugin, point = _snapshot(account, ref)
    plugin.start_restore(
        point, _spec(ref, "lbdrill-cache", "drill:1", purpose=Purpose.DRILL), "drill:1", ref=ref
    )
    plugin.start_restore(point, _spec(ref, "kept", "restore:9"), "restore:9", ref=ref)
    # WHEN teardown is asked for the source, a real restore, or the drill under another drill's id
    for name, operation_id in (
        ("build-cache", "drill:1"),
        ("kept", "restore:9"),
        ("lbdrill-cache", "drill:2"),
    ):
        with pytest.raises(TeardownRefused):
            plugin.teardown(SOURCE, name, operation_id)
    # WHEN the drill tears down its own volume THEN it is deleted, and a second call finds it gone
    assert plugin.teardown(SOURCE, "lbdrill-cache", "drill:1") is TeardownState.DELETING
    assert plugin.teardown(SOURCE, "lbdrill-cache", "drill:1") is TeardownState.GONE
    # AND the others are untouched
    volumes = account.clients("ec2", SOURCE).describe_volumes()["Volumes"]
    assert sorted(_tags(v).get("Name", "") for v in volumes) == ["build-cache", "kept"]


def test_a_failed_restore_is_tagged_for_cleanup_on_its_volume(account: Account) -> None:
    ref = _volume(account)
    plugin, point = _snapshot(account, ref)
    plugin.start_restore(point, _spec(ref, "cache-r", "restore:1"), "restore:1", ref=ref)

    plugin.tag_restored(plugin.describe_restored(SOURCE, "cache-r"), {"lifeboat:cleanup": "required: x"})

    [volume] = _named(account, SOURCE, "cache-r")
    assert _tags(volume)["lifeboat:cleanup"] == "required: x"


def test_point_in_time_restore_is_refused_with_the_way_out(account: Account) -> None:
    # GIVEN a volume WHEN a point-in-time window or restore is asked for THEN UnsupportedOperation
    # says a recovery point is the way, and no volume is created
    ref = _volume(account)
    plugin = EbsVolumePlugin(account.clients)
    with pytest.raises(UnsupportedOperation, match="restore a recovery point instead"):
        plugin.restore_window(ref)
    with pytest.raises(UnsupportedOperation, match="no point-in-time window"):
        plugin.start_restore(
            None, _spec(ref, "cache-pitr", "restore:1"), "restore:1", ref=ref, point_in_time=SCHEDULED_AT
        )
    assert _named(account, SOURCE, "cache-pitr") == []


def test_a_restore_of_a_missing_point_creates_nothing(account: Account) -> None:
    ref = _volume(account)
    with pytest.raises(RecoveryPointNotFound):
        EbsVolumePlugin(account.clients).start_restore(
            "lb-missing", _spec(ref, "cache-r", "restore:1"), "restore:1", ref=ref
        )
    assert _named(account, SOURCE, "cache-r") == []
