"""Sub-daily tiers under the manual snapshot quota: a policy one resource of which would fill the
quota is refused before anything runs, with the count, the tiers that make it up and the excess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.domain.config import parse_config
from lifeboat.domain.policy import Tier
from lifeboat.domain.snapshot_budget import deletion_budget, points_kept, points_per_day
from lifeboat.errors import ConfigError, PolicyViolation

TWO_DR_REGIONS = [
    {"region": "us-west-2", "kmsKeyId": "alias/lifeboat-dr"},
    {"region": "eu-west-1", "kmsKeyId": "alias/lifeboat-dr"},
]


def _config(quota: int | None = None, **policy: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"policies": {"p": policy}}
    if quota is not None:
        document["manualSnapshotQuota"] = quota
    return document


def test_a_tier_keeps_its_retention_divided_by_its_interval() -> None:
    # GIVEN hourly points kept 2 days, every-6-hours 7 days, daily 30, weekly a year, monthly 7 years
    retention = {Tier.HOURLY: 2, Tier.EVERY_6H: 7, Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 2555}
    # WHEN the points one resource keeps a year from now are counted
    kept = points_kept(retention)
    # THEN each tier holds its retention over its interval; the 7-year tier counts its first year
    assert kept == {Tier.HOURLY: 48, Tier.EVERY_6H: 28, Tier.DAILY: 30, Tier.WEEKLY: 53, Tier.MONTHLY: 12}


def test_the_brief_prod_defaults_fit_the_default_quota() -> None:
    # GIVEN the brief's prod retention (30 daily, 53 weekly, 12 monthly in a year: 95 of 100 - 5)
    # WHEN the config is parsed THEN it is accepted
    config = parse_config(_config(environment="prod", drRegions=TWO_DR_REGIONS))
    assert config.manual_snapshot_quota == 100


def test_an_hourly_tier_on_top_of_prod_defaults_is_refused_by_how_much() -> None:
    # GIVEN a prod policy adding a day of hourly points to the defaults
    retention = {"hourly": 1, "daily": 30, "weekly": 365, "monthly": 2555}
    document = _config(environment="prod", retentionDays=retention, drRegions=TWO_DR_REGIONS)
    # WHEN the config is parsed THEN it is refused, naming the count, its tiers and the excess
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    message = str(refused.value)
    assert (
        "policy 'p' (prod): in the source region, one resource keeps 119 manual snapshots within a "
        "year (24 hourly + 30 daily + 53 weekly + 12 monthly); the manual snapshot quota of 100 per "
        "region leaves room for 95 (5 kept free): 24 over" in message
    )
    # AND every DR region, which keeps the same copies, is named too
    assert "in us-west-2, one resource keeps 119" in message and "in eu-west-1" in message


def test_a_raised_quota_accepts_the_same_policy() -> None:
    # GIVEN the same policy in an account whose quota was raised to 200 and says so
    retention = {"hourly": 1, "daily": 30, "weekly": 365, "monthly": 2555}
    document = _config(quota=200, environment="prod", retentionDays=retention, drRegions=TWO_DR_REGIONS)
    # WHEN the config is parsed THEN it is accepted
    assert parse_config(document).policy("p").retention_for(Tier.HOURLY) == 1


def test_a_dr_region_keeping_longer_is_counted_on_its_own() -> None:
    # GIVEN a staging policy whose every-6-hours points fit at the source (14 d: 56 + 14 daily = 70)
    # but whose DR region keeps them 30 days (120 + 14 = 134)
    document = _config(
        environment="staging",
        retentionDays={"every6h": 14, "daily": 14},
        drRegions=[{"region": "us-west-2", "kmsKeyId": "k", "retentionDays": {"every6h": 30}}],
    )
    # WHEN the config is parsed THEN only the DR region is refused, by 39
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    assert "in us-west-2, one resource keeps 134 manual snapshots" in str(refused.value)
    assert "39 over" in str(refused.value)
    assert "source region" not in str(refused.value)


def test_a_quota_with_no_room_above_the_reserve_is_bad_input() -> None:
    # GIVEN a quota of 5 (all of it the reserve) WHEN parsed THEN the field is named
    with pytest.raises(ConfigError, match="manualSnapshotQuota"):
        parse_config(_config(quota=5, environment="dev"))


def test_prod_sub_daily_points_may_be_kept_hours_but_prod_still_keeps_a_week() -> None:
    # GIVEN a prod policy with a day of hourly points on top of 30 daily ones
    fine = _config(environment="prod", retentionDays={"hourly": 1, "daily": 30}, drRegions=TWO_DR_REGIONS)
    # THEN the 7-day prod minimum is met by the daily tier (24 + 30 = 54 snapshots fit the quota)
    assert parse_config(fine).policy("p").retention_for(Tier.HOURLY) == 1
    # GIVEN a prod policy keeping only a day of hourly points
    short = _config(environment="prod", retentionDays={"hourly": 1}, drRegions=TWO_DR_REGIONS)
    # THEN it is refused: prod keeps points for at least 7 days
    with pytest.raises(PolicyViolation, match="prod keeps recovery points at least 7 days; add a daily"):
        parse_config(short)


def test_the_readme_prod_example_keeps_hourly_points_within_the_quota() -> None:
    # GIVEN the config document the README tells operators to put in SSM
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    document = json.loads(readme.split("```json\n", 1)[1].split("```", 1)[0])
    # WHEN it is parsed THEN it is accepted, and its 60-minute RPO has an hourly tier behind it
    prod = parse_config(document).policy("prod")
    assert prod.rpo_minutes == 60 and prod.retention_for(Tier.HOURLY) == 1


def test_a_resource_makes_a_point_per_tier_interval_in_its_source_and_every_dr_region() -> None:
    # GIVEN a staging policy keeping hourly and daily points, copied to two DR regions, and a dev
    # policy whose backups are off
    config = parse_config(
        {
            "policies": {
                "busy": {
                    "environment": "staging",
                    "retentionDays": {"hourly": 2, "daily": 7},
                    "drRegions": TWO_DR_REGIONS,
                },
                "off": {"environment": "dev"},
            }
        }
    )
    # WHEN the points one resource makes a day are counted
    busy, off = points_per_day(config.policy("busy")), points_per_day(config.policy("off"))
    # THEN it is 24 hourly + 1 daily in each of 3 regions; nothing where backups are off
    assert (busy, off) == (75.0, 0.0)


@pytest.mark.parametrize(
    ("ceiling", "daily_expiry", "budget"),
    [(500, 0, 500), (500, 300, 500), (500, 600, 900), (500, 3000, 4500), (10_000, 3000, 10_000)],
)
def test_a_cleanup_budget_is_never_below_a_day_and_a_half_of_the_fleets_expiry(
    ceiling: int, daily_expiry: int, budget: int
) -> None:
    # GIVEN a deployment ceiling and what the fleet expires a day
    # WHEN a run's deletion budget is set THEN a backlog drains (1.5 days a run) and never grows
    assert deletion_budget(ceiling, daily_expiry) == budget
