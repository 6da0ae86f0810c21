"""Level-1 validation: what makes a recovery point 'valid', as expected/actual pairs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lifeboat.domain.recovery import (
    Check,
    RecoveryPointFacts,
    SourceSpec,
    is_ours,
    level1_checks,
    recovery_point_tags,
)

POINT = "lb-orders-db-daily-202611220300-6d483cac"
ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
SOURCE_KEY = "arn:aws:kms:us-east-1:123456789012:key/source"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/dr"
TAGS = recovery_point_tags(
    resource_arn=ARN,
    recovery_point_id=POINT,
    tier="daily",
    policy="prod",
    scheduled_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
)


def _source(**overrides: Any) -> SourceSpec:
    base: dict[str, Any] = {
        "region": "us-east-1",
        "status": "available",
        "engine": "postgres",
        "engine_version": "16.4",
        "size_gib": 100,
        "encrypted": True,
        "kms_key_id": SOURCE_KEY,
    }
    return SourceSpec(**(base | overrides))


def _copy(**overrides: Any) -> RecoveryPointFacts:
    base: dict[str, Any] = {
        "recovery_point_id": POINT,
        "arn": f"arn:aws:rds:us-west-2:123456789012:snapshot:{POINT}",
        "region": "us-west-2",
        "status": "available",
        "ready": True,
        "encrypted": True,
        "kms_key_id": DR_KEY,
        "engine": "postgres",
        "engine_version": "16.4",
        "size_gib": 100,
        "tags": dict(TAGS),
    }
    return RecoveryPointFacts(**(base | overrides))


def _failed(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks if not c.passed}


def _failed_checks(facts: RecoveryPointFacts) -> dict[str, Check]:
    """Validate a copy of the encrypted default source against the DR key and the Lifeboat tags."""
    return _failed(level1_checks(facts, _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS))


def test_a_good_copy_passes_every_check() -> None:
    # GIVEN an available copy under the DR key, same engine, size and tags as the source
    checks = level1_checks(_copy(), _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS)
    # THEN every check passes, and the operator sees which checks were made
    assert _failed(checks) == {}
    assert [c.name for c in checks] == [
        "available",
        "encrypted",
        "kms_key",
        "engine",
        "size_gib",
        "lifeboat_tags",
    ]


def test_a_copy_under_the_wrong_key_fails_the_kms_check_with_expected_and_actual() -> None:
    # GIVEN an encrypted source and a copy that kept the source key instead of the DR key
    facts = _copy(kms_key_id=SOURCE_KEY)
    # WHEN it is validated against the DR key
    failed = _failed(level1_checks(facts, _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS))
    # THEN only the key check fails, saying which key was expected and which was found
    assert list(failed) == ["kms_key"]
    assert (failed["kms_key"].expected, failed["kms_key"].actual) == (DR_KEY, SOURCE_KEY)


def test_an_encrypted_source_with_an_unencrypted_copy_fails() -> None:
    """GIVEN an encrypted source and an unencrypted copy WHEN validated THEN encryption and key checks fail.
    GIVEN an encrypted source and an unencrypted copy WHEN validated THEN encryption and key checks fail."""
    facts = _copy(encrypted=False, kms_key_id=None)
    failed = _failed(level1_checks(facts, _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS))
    assert set(failed) == {"encrypted", "kms_key"}
    assert failed["kms_key"].actual is None


def test_missing_lifeboat_tags_are_named() -> None:
    # GIVEN a copy that lost two of its Lifeboat tags
    tags = {k: v for k, v in TAGS.items() if k not in ("lifeboat:tier", "lifeboat:managed-by")}
    # WHEN it is validated
    failed = _failed(
        level1_checks(_copy(tags=tags), _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS)
    )
    # THEN the tags check fails and names exactly the missing ones
    assert list(failed) == ["lifeboat_tags"]
    assert failed["lifeboat_tags"].actual == "missing or wrong: lifeboat:managed-by, lifeboat:tier"


def test_a_wrong_tag_value_counts_as_missing() -> None:
    """GIVEN a copy tagged with another point's id WHEN validated THEN that tag is reported wrong."""
    tags = TAGS | {"lifeboat:recovery-point-id": "lb-someone-else"}
    failed = _failed(
        level1_checks(_copy(tags=tags), _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS)
    )
    assert failed["lifeboat_tags"].actual == "missing or wrong: lifeboat:recovery-point-id"


def test_a_size_mismatch_fails_with_both_sizes() -> None:
    # GIVEN a snapshot of 99 GiB for a 100 GiB source
    failed = _failed(
        level1_checks(_copy(size_gib=99), _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS)
    )
    # THEN the size check fails with expected 100, actual 99
    assert list(failed) == ["size_gib"]
    assert (failed["size_gib"].expected, failed["size_gib"].actual) == (100, 99)


def test_an_engine_version_mismatch_fails() -> None:
    """GIVEN a copy of another engine version WHEN validated THEN the engine check shows both versions."""
    failed = _failed(
        level1_checks(_copy(engine_version="15.2"), _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS)
    )
    assert list(failed) == ["engine"]
    assert (failed["engine"].expected, failed["engine"].actual) == ("postgres 16.4", "postgres 15.2")


def test_a_point_still_copying_is_not_available() -> None:
    """GIVEN a copy still copying WHEN validated THEN only the availability check fails."""
    facts = _copy(status="copying", ready=False)
    failed = _failed(level1_checks(facts, _source(), expected_kms_key_id=DR_KEY, expected_tags=TAGS))
    assert list(failed) == ["available"]


def test_an_unencrypted_source_has_no_kms_check() -> None:
    # GIVEN an unencrypted source and its unencrypted copy
    source = _source(encrypted=False, kms_key_id=None)
    facts = _copy(encrypted=False, kms_key_id=None)
    # WHEN it is validated
    checks = level1_checks(facts, source, expected_kms_key_id=None, expected_tags=TAGS)
    # THEN there is no key check at all, and it is valid
    assert "kms_key" not in [c.name for c in checks]
    assert _failed(checks) == {}


def test_only_points_with_our_tags_and_id_are_ours() -> None:
    """GIVEN tag sets THEN only Lifeboat's managed-by tag with this point's id counts as ours."""
    assert is_ours(TAGS, POINT)
    assert not is_ours({}, POINT)
    assert not is_ours(TAGS, "lb-another-point")
    assert not is_ours(TAGS | {"lifeboat:managed-by": "someone-else"}, POINT)


def test_tags_carry_the_scheduled_time_to_the_minute() -> None:
    """GIVEN the tags of a point THEN they name the resource and the scheduled minute in UTC."""
    assert TAGS["lifeboat:scheduled-at"] == "2026-11-22T03:00Z"
    assert TAGS["lifeboat:resource-arn"] == ARN
