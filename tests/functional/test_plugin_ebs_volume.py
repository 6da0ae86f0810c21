"""EBS volumes on moto: tagged snapshots found by tag, copies under the DR key, validation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.domain.recovery import RECOVERY_POINT_TAG
from lifeboat.errors import RecoveryPointConflict, RecoveryPointNotFound, ResourceNotFound
from lifeboat.plugins.ebs_volume import EbsVolumePlugin

from .plugin_aws import DR, SCHEDULED_AT, SOURCE, Account, emulated_account, tags_for


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    yield from emulated_account(monkeypatch)


def _volume(
    acct: Account, *, size: int = 50, encrypted: bool = True, policy: str | None = "prod"
) -> ResourceRef:
    request: dict[str, object] = {"AvailabilityZone": f"{SOURCE}a", "Size": size}
    if encrypted:
        request |= {"Encrypted": True, "KmsKeyId": acct.source_key}
    if policy:
        request["TagSpecifications"] = [
            {"ResourceType": "volume", "Tags": [{"Key": "lifeboat:policy", "Value": policy}]}
        ]
    volume_id = acct.clients("ec2", SOURCE).create_volume(**request)["VolumeId"]
    return ResourceRef.parse(f"arn:aws:ec2:{SOURCE}:123456789012:volume/{volume_id}")


def _ours(acct: Account, region: str, point: str) -> list[dict[str, object]]:
    return acct.clients("ec2", region).describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{RECOVERY_POINT_TAG}", "Values": [point]}]
    )["Snapshots"]


def _snapshot(acct: Account, ref: ResourceRef) -> tuple[EbsVolumePlugin, str]:
    plugin = EbsVolumePlugin(acct.clients)
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)
    plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    return plugin, point


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
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)

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
    point = recovery_point_id(ref.arn, Tier.DAILY, SCHEDULED_AT)
    account.clients("ec2", SOURCE).create_snapshot(
        VolumeId=ref.name,
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": RECOVERY_POINT_TAG, "Value": point}]}
        ],
    )

    with pytest.raises(RecoveryPointConflict):
        EbsVolumePlugin(account.clients).create_recovery_point(ref, point, tags_for(ref.arn, point))


def test_delete_removes_only_that_recovery_point(account: Account) -> None:
    """GIVEN a recovery point WHEN it is deleted THEN describing it is RecoveryPointNotFound."""
    plugin, point = _snapshot(account, _volume(account))

    plugin.delete_recovery_point(SOURCE, point)

    with pytest.raises(RecoveryPointNotFound):
        plugin.describe_recovery_point(SOURCE, point)


def test_a_deleted_volume_is_resource_not_found(account: Account) -> None:
    """GIVEN a volume ARN that no longer exists WHEN the preflight describes it THEN ResourceNotFound."""
    ref = ResourceRef.parse(f"arn:aws:ec2:{SOURCE}:123456789012:volume/vol-0123456789abcdef0")

    with pytest.raises(ResourceNotFound):
        EbsVolumePlugin(account.clients).describe_source(ref)
