"""DR keys are checked before any copy starts: usable, enabled, in the copy's region."""

from __future__ import annotations

import pytest
from lifeboat.aws.clients import Clients
from lifeboat.aws.kms import resolve_usable_key
from lifeboat.errors import KmsKeyNotUsable

WEST, EAST = "us-west-2", "us-east-1"


@pytest.fixture
def clients(moto_clients: Clients) -> Clients:
    return moto_clients


def _key(clients: Clients, region: str, alias: str | None = None) -> str:
    kms = clients("kms", region)
    arn = str(kms.create_key(Description=f"DR copies in {region}")["KeyMetadata"]["Arn"])
    if alias:
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
    return arn


def test_an_alias_resolves_to_the_key_arn_of_that_region(clients: Clients) -> None:
    # GIVEN alias/lifeboat-dr defined in two regions, for two different keys
    west = _key(clients, WEST, alias="alias/lifeboat-dr")
    _key(clients, EAST, alias="alias/lifeboat-dr")
    # WHEN the us-west-2 target's key is resolved
    resolved = resolve_usable_key(clients, WEST, "alias/lifeboat-dr")
    # THEN it is the us-west-2 key's ARN (copies record the exact key)
    assert resolved == west


def test_a_key_id_or_arn_resolves_to_the_arn(clients: Clients) -> None:
    """GIVEN a DR key WHEN given by ARN or bare id THEN it resolves to its ARN."""
    arn = _key(clients, WEST)
    assert resolve_usable_key(clients, WEST, arn) == arn
    assert resolve_usable_key(clients, WEST, arn.rsplit("/", 1)[-1]) == arn


def test_a_disabled_key_is_not_usable(clients: Clients) -> None:
    # GIVEN a DR key somebody disabled
    arn = _key(clients, WEST)
    clients("kms", WEST).disable_key(KeyId=arn.rsplit("/", 1)[-1])  # moto wants the bare id
    # WHEN the preflight checks it THEN the copy is refused before it starts, with the key's state
    with pytest.raises(KmsKeyNotUsable, match=f"KMS key {arn} in us-west-2 is Disabled, not Enabled"):
        resolve_usable_key(clients, WEST, arn)


def test_a_key_pending_deletion_is_not_usable(clients: Clients) -> None:
    """GIVEN a DR key scheduled for deletion WHEN checked THEN it is refused, with its state."""
    arn = _key(clients, WEST)
    clients("kms", WEST).schedule_key_deletion(KeyId=arn.rsplit("/", 1)[-1], PendingWindowInDays=7)
    with pytest.raises(KmsKeyNotUsable, match="PendingDeletion"):
        resolve_usable_key(clients, WEST, arn)


def test_a_key_from_another_region_is_not_usable(clients: Clients) -> None:
    # GIVEN the us-east-1 key configured for the us-west-2 target by mistake
    east = _key(clients, EAST)
    # THEN it is refused, naming the key and the region it should be in
    with pytest.raises(KmsKeyNotUsable, match=f"KMS key {east} is not in region us-west-2"):
        resolve_usable_key(clients, WEST, east)


@pytest.mark.parametrize("key_id", ["alias/does-not-exist", "0b3f9c7e-1111-4222-8333-444455556666"])
def test_an_unknown_key_is_not_usable(clients: Clients, key_id: str) -> None:
    """GIVEN a key id or alias that does not exist WHEN checked THEN it is refused, naming it."""
    with pytest.raises(KmsKeyNotUsable, match=f"KMS key {key_id} in us-west-2"):
        resolve_usable_key(clients, WEST, key_id)
