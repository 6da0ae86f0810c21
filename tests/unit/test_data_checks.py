"""Level-2 comparison (pure): a restore against its source's profile at backup time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.domain.datachecks import (
    CanaryCheck,
    DatabaseProfile,
    DataChecks,
    TableProfile,
    checksum_bounds,
    compare,
    data_age_seconds,
)
from lifeboat.errors import InvalidInput
from lifeboat.handler import parse

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CONFIG = DataChecks.model_validate(
    {
        "secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lifeboat/orders",
        "database": "shop",
        "tables": [
            {"name": "public.orders", "key": "id", "rowCountTolerancePercent": 1},
            {"name": "customers", "key": "id", "rowCountTolerancePercent": 0, "checksumUpTo": 400},
        ],
        "canary": {"sql": "SELECT count(*) FROM customers"},
        "freshnessSql": "SELECT max(created_at) FROM orders",
    }
)


def profile(**changes: Any) -> DatabaseProfile:
    base = DatabaseProfile(
        captured_at=NOW - timedelta(hours=7),
        schema_fingerprint="a" * 64,
        schema_objects=14,
        tables=[
            TableProfile(name="public.orders", row_count=4000, checksum_up_to=4000, checksum="4000:123"),
            TableProfile(name="customers", row_count=500, checksum_up_to=400, checksum="400:77"),
        ],
        canary="500",
        newest_commit_at=NOW - timedelta(hours=7, minutes=1),
    )
    return base.model_copy(update=changes)


def failed(checks: list[Any]) -> list[str]:
    return [c.name for c in checks if not c.passed]


def test_an_identical_restore_passes_every_check() -> None:
    # GIVEN the source profiled at backup time and a restore that holds the same data
    checks = compare(CONFIG, profile(), profile(captured_at=NOW))
    # THEN schema, counts, checksums and canary all pass
    assert [c.name for c in checks] == [
        "schema_fingerprint",
        "row_count:public.orders",
        "checksum:public.orders",
        "row_count:customers",
        "checksum:customers",
        "canary",
    ]
    assert failed(checks) == []


def test_a_truncated_table_fails_its_row_count_and_checksum() -> None:
    # GIVEN a restore missing 100 of 4,000 orders (2.5%, above the 1% tolerance)
    orders = TableProfile(name="public.orders", row_count=3900, checksum_up_to=4000, checksum="3900:99")
    restored = profile(tables=[orders, profile().tables[1]])
    # THEN both orders checks fail, naming the table
    assert failed(compare(CONFIG, profile(), restored)) == [
        "row_count:public.orders",
        "checksum:public.orders",
    ]


def test_writes_after_the_profile_stay_within_the_tolerance() -> None:
    # GIVEN 30 orders written between the profile and the snapshot (0.75%), rows below the bound intact
    orders = TableProfile(name="public.orders", row_count=4030, checksum_up_to=4000, checksum="4000:123")
    restored = profile(tables=[orders, profile().tables[1]])
    # THEN nothing fails: the count is within 1% and the checksummed range is unchanged
    assert failed(compare(CONFIG, profile(), restored)) == []


def test_changed_rows_fail_only_the_checksum() -> None:
    customers = TableProfile(name="customers", row_count=500, checksum_up_to=400, checksum="400:78")
    restored = profile(tables=[profile().tables[0], customers])
    assert failed(compare(CONFIG, profile(), restored)) == ["checksum:customers"]


def test_a_schema_change_and_a_missing_table_are_named() -> None:
    restored = profile(schema_fingerprint="b" * 64, tables=[profile().tables[0]])
    checks = {c.name: c for c in compare(CONFIG, profile(), restored)}
    assert not checks["schema_fingerprint"].passed
    assert (checks["row_count:customers"].actual, checks["row_count:customers"].passed) == (
        "table missing",
        False,
    )


def test_without_a_source_profile_the_restore_cannot_be_verified() -> None:
    # GIVEN a recovery point whose source was never profiled (data checks added later)
    checks = compare(CONFIG, None, profile())
    # THEN that is a failed check, not a silent pass (the canary, without a baseline, only has to answer)
    assert failed(checks) == ["source_profile"]


def test_a_point_in_time_restore_is_checked_by_its_canary_only() -> None:
    # GIVEN no backup-time profile (a point-in-time restore)
    checks = compare(CONFIG, None, profile(), profiled=False)
    # THEN only the canary runs, and it must answer
    assert [(c.name, c.passed) for c in checks] == [("canary", True)]
    assert not compare(CONFIG, None, profile(canary=None), profiled=False)[0].passed
    # AND with an expected answer configured, the answer must match it
    expecting = CONFIG.model_copy(update={"canary": CanaryCheck(sql="SELECT 1", expect="499")})
    assert not compare(expecting, None, profile(), profiled=False)[0].passed


def test_checksum_bounds_come_from_the_config_or_the_source_profile() -> None:
    assert checksum_bounds(CONFIG, profile()) == {"public.orders": 4000, "customers": 400}
    assert checksum_bounds(CONFIG, None) == {"public.orders": None, "customers": 400}


def test_data_age_is_measured_from_the_newest_commit_else_the_point_time() -> None:
    point_time = NOW - timedelta(hours=6)
    assert data_age_seconds(NOW, profile(), point_time) == 7 * 3600 + 60
    assert data_age_seconds(NOW, profile(newest_commit_at=None), point_time) == 6 * 3600
    assert data_age_seconds(NOW, None, None) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tables": [{"name": "orders; DROP TABLE x", "key": "id"}]}, "is not a table name"),
        ({"tables": [{"name": "orders", "key": "id) OR (1=1"}]}, "is not a column name"),
        ({"engine": "mysql"}, "support engine 'postgres'"),
        ({"secretArn": "not-an-arn"}, "secretArn"),
    ],
)
def test_bad_data_check_config_is_refused_with_the_reason(change: dict[str, Any], message: str) -> None:
    document = CONFIG.model_dump(mode="json", by_alias=True) | change
    with pytest.raises(InvalidInput, match=message):
        parse(DataChecks, document)
