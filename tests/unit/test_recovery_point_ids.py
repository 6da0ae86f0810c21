"""Deterministic recovery point ids: the same run always names the same snapshot, a valid one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifeboat.domain.ids import (
    RDS_IDENTIFIER,
    copy_operation_id,
    normalise_time,
    recovery_point_id,
    run_id,
    run_of,
)
from lifeboat.domain.policy import Tier

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_the_same_resource_tier_and_time_always_give_the_same_id() -> None:
    # GIVEN one scheduled run WHEN its id is computed twice THEN both are equal and readable
    first = recovery_point_id(ARN, Tier.DAILY, AT)
    assert first == recovery_point_id(ARN, Tier.DAILY, AT)
    assert first == "lb-orders-db-daily-202611220300-6d483cac"


@pytest.mark.parametrize(
    "name",
    [
        "orders--db",
        "orders_db",
        "Orders-DB",
        "a" * 63,
        "db-" + "x" * 37 + "-tail",  # the 40-character cut lands right after a hyphen
        "orders-db-2024",
        "orders-db-",
        "orders-db--",
        "-orders-db",
        "2024-orders",
        "___",
        "ördérs.db",
    ],
)
def test_awkward_names_still_give_a_valid_rds_snapshot_identifier(name: str) -> None:
    # GIVEN a resource whose name RDS would not accept as a snapshot identifier as-is
    arn = f"arn:aws:rds:us-east-1:123456789012:db:{name}"
    # WHEN its recovery point id is computed
    point = recovery_point_id(arn, Tier.DAILY, AT)
    # THEN RDS accepts it
    assert RDS_IDENTIFIER.match(point), point
    assert len(point) <= 255


@given(name=st.text(min_size=1, max_size=300), tier=st.sampled_from(list(Tier)))
def test_any_name_gives_a_valid_rds_snapshot_identifier(name: str, tier: Tier) -> None:
    # GIVEN any resource name at all (the last ARN segment, after ':' or '/')
    arn = f"arn:aws:rds:us-east-1:123456789012:db:{name}"
    # WHEN its recovery point id is computed
    point = recovery_point_id(arn, tier, AT)
    # THEN it is a valid RDS identifier: letter first, no '--', no trailing '-', at most 255 chars
    assert RDS_IDENTIFIER.match(point), point
    assert len(point) <= 255


def test_ids_differ_by_tier() -> None:
    """GIVEN one resource and time WHEN the daily and the weekly points are named THEN the ids differ."""
    assert recovery_point_id(ARN, Tier.DAILY, AT) != recovery_point_id(ARN, Tier.WEEKLY, AT)


def test_ids_differ_by_scheduled_minute() -> None:
    """GIVEN runs one minute apart THEN their recovery points have different ids."""
    assert recovery_point_id(ARN, Tier.DAILY, AT) != recovery_point_id(
        ARN, Tier.DAILY, AT + timedelta(minutes=1)
    )


def test_the_same_name_in_another_region_or_account_gets_another_id() -> None:
    # GIVEN two instances called orders-db in different regions and accounts
    west = "arn:aws:rds:us-west-2:123456789012:db:orders-db"
    other_account = "arn:aws:rds:us-east-1:210987654321:db:orders-db"
    # THEN no two share a recovery point id
    ids = {recovery_point_id(arn, Tier.DAILY, AT) for arn in (ARN, west, other_account)}
    assert len(ids) == 3


def test_names_that_slug_alike_get_different_ids() -> None:
    # GIVEN orders_db and orders-db (both slug to "orders-db")
    underscore = "arn:aws:rds:us-east-1:123456789012:db:orders_db"
    # THEN the ARN digest keeps them apart
    assert recovery_point_id(underscore, Tier.DAILY, AT) != recovery_point_id(ARN, Tier.DAILY, AT)


def test_scheduled_times_count_to_the_minute() -> None:
    # GIVEN a schedule delivered 59.9 seconds late (EventBridge delivery jitter)
    late = AT + timedelta(seconds=59, microseconds=900_000)
    # THEN it names the same recovery point as the on-time delivery
    assert recovery_point_id(ARN, Tier.DAILY, late) == recovery_point_id(ARN, Tier.DAILY, AT)
    assert run_id(Tier.DAILY, late) == run_id(Tier.DAILY, AT) == "daily-20261122T0300Z"


def test_the_same_instant_in_another_timezone_gives_the_same_id() -> None:
    # GIVEN 03:00 UTC written as 05:00+02:00
    paris = AT.astimezone(timezone(timedelta(hours=2)))
    # THEN the id is the same
    assert recovery_point_id(ARN, Tier.DAILY, paris) == recovery_point_id(ARN, Tier.DAILY, AT)


def test_a_time_without_timezone_is_rejected() -> None:
    # GIVEN a naive datetime (ambiguous: which 03:00?)
    naive = datetime(2026, 11, 22, 3, 0)
    # THEN no id is made from it
    with pytest.raises(ValueError, match="timezone"):
        recovery_point_id(ARN, Tier.DAILY, naive)
    with pytest.raises(ValueError, match="timezone"):
        normalise_time(naive)


def test_a_runs_own_copies_are_told_from_other_runs_and_from_its_catch_up_copies() -> None:
    """GIVEN the daily run of 2026-11-22 03:00 WHEN asking which copy holders it made THEN its
    own points' copies are, another tier's, another minute's and its catch-up copies are not."""
    run = run_id(Tier.DAILY, AT)
    point = recovery_point_id(ARN, Tier.DAILY, AT)
    weekly = recovery_point_id(ARN, Tier.WEEKLY, AT)
    earlier = recovery_point_id(ARN, Tier.DAILY, AT - timedelta(days=1))
    assert run_of(copy_operation_id(point, "us-west-2")) == run
    assert run_of(copy_operation_id(weekly, "us-west-2")) == run_id(Tier.WEEKLY, AT) != run
    assert run_of(copy_operation_id(earlier, "us-west-2")) == run_id(Tier.DAILY, AT - timedelta(days=1))
    assert run_of(copy_operation_id(point, "us-west-2", catch_up=True)) is None
