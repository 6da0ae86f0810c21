"""Retention decisions: the guards hold for every generated history (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import (
    Action,
    Decision,
    RecoveryPoint,
    RegionRules,
    Rule,
    cap_deletions,
    decide,
)

NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@st.composite
def points(draw: st.DrawFn) -> RecoveryPoint:
    region = draw(st.sampled_from(REGIONS))
    age_hours = draw(st.integers(min_value=0, max_value=900 * 24))
    point_id = f"lb-db-{draw(st.integers(min_value=0, max_value=10_000))}"
    return RecoveryPoint(
        recovery_point_id=point_id,
        region=region,
        operation_id=f"backup:{point_id}:{region}",
        tier=draw(st.sampled_from([*Tier, None])),
        taken_at=NOW - timedelta(hours=age_hours),
        valid=draw(st.booleans()),
        ours=draw(st.sampled_from([True, True, True, False])),
        pinned_by=draw(st.sampled_from([None, None, None, "forceRetain", "legal hold"])),
        in_use_by=draw(st.sampled_from([None, None, None, "restore:lb-db-1"])),
    )


def unique(history: list[RecoveryPoint]) -> list[RecoveryPoint]:
    return list({p.operation_id: p for p in history}.values())


histories = st.lists(points(), max_size=40).map(unique)
retentions = st.dictionaries(st.sampled_from(list(Tier)), st.integers(min_value=1, max_value=800))


def region_rules_of(retention_days: dict[Tier, int], min_count: int) -> RegionRules:
    # A plain function, not ``st.builds(RegionRules, ...)``: after the functional suite has run in
    # the same process, hypothesis calling the deferred-build model class directly was seen to
    # reject its own field names (pydantic 2.13 / hypothesis 6.170); a direct call never does.
    return RegionRules(retention_days=retention_days, min_count=min_count)


region_rules = st.fixed_dictionaries(
    {r: st.builds(region_rules_of, retentions, st.integers(1, 6)) for r in REGIONS}
)


def by_region(decisions: list[Decision], region: str) -> list[Decision]:
    return [d for d in decisions if d.point.region == region]


@settings(max_examples=200, deadline=None)
@given(history=histories, rules=region_rules, cap=st.integers(min_value=0, max_value=50))
def test_guards_hold_for_every_history(
    history: list[RecoveryPoint], rules: dict[str, RegionRules], cap: int
) -> None:
    # GIVEN any history of points (tiers, ages, validity, pins, foreign snapshots, in-use points)
    # WHEN cleanup plans it with any per-region retention, minimum count and deletion cap
    decisions = cap_deletions(decide(history, rules.__getitem__, NOW), cap)
    deleted = [d for d in decisions if d.action is Action.DELETE]

    # THEN every point gets exactly one decision with a reason
    assert sorted(d.point.operation_id for d in decisions) == sorted(p.operation_id for p in history)
    assert all(d.reason for d in decisions)
    # AND pinned, in-use and not-ours points are never deleted
    assert not [d for d in deleted if d.point.pinned_by or d.point.in_use_by or not d.point.ours]
    # AND no more than the cap is deleted
    assert len(deleted) <= cap
    # AND nothing is deleted inside its tier's window in its own region
    for d in deleted:
        assert d.point.tier is not None
        days = rules[d.point.region].retention_days[d.point.tier]
        assert d.point.taken_at + timedelta(days=days) <= NOW
    for region in REGIONS:
        here = by_region(decisions, region)
        valid = [d.point for d in here if d.point.valid and d.point.ours]
        # AND the newest valid point of each region is kept
        if valid:
            newest = max(valid, key=lambda p: (p.taken_at, p.recovery_point_id))
            assert next(d for d in here if d.point is newest).action is Action.KEEP
        # AND no region goes below its minimum count of our points
        ours = [d for d in here if d.point.ours]
        remaining = [d for d in ours if d.action is not Action.DELETE]
        assert len(remaining) >= min(rules[region].min_count, len(ours))


@settings(max_examples=100, deadline=None)
@given(history=histories, rules=region_rules, cap=st.integers(min_value=0, max_value=10))
def test_deferred_points_are_exactly_the_expired_ones_beyond_the_cap(
    history: list[RecoveryPoint], rules: dict[str, RegionRules], cap: int
) -> None:
    # GIVEN a plan without a cap
    uncapped = decide(history, rules.__getitem__, NOW)
    # WHEN a cap is applied
    capped = cap_deletions(uncapped, cap)
    # THEN DELETE + DEFER is exactly the uncapped DELETE set, oldest deleted first
    expired = {d.point.operation_id for d in uncapped if d.action is Action.DELETE}
    assert {d.point.operation_id for d in capped if d.action in (Action.DELETE, Action.DEFER)} == expired
    kept_deleting = [d.point.taken_at for d in capped if d.action is Action.DELETE]
    deferred = [d.point.taken_at for d in capped if d.action is Action.DEFER]
    assert len(kept_deleting) == min(cap, len(expired))
    assert not deferred or max(kept_deleting, default=min(deferred)) <= min(deferred)


@settings(max_examples=100, deadline=None)
@given(history=histories, rules=region_rules)
def test_a_second_plan_after_the_deletions_deletes_nothing_more(
    history: list[RecoveryPoint], rules: dict[str, RegionRules]
) -> None:
    # GIVEN a plan whose deletions were all carried out
    first = decide(history, rules.__getitem__, NOW)
    remaining = [d.point for d in first if d.action is not Action.DELETE]
    # WHEN the same cleanup plans again at the same time
    second = decide(remaining, rules.__getitem__, NOW)
    # THEN it deletes nothing: cleanup converges, it does not eat into the guarded set run after run
    assert [d for d in second if d.action is Action.DELETE] == []


def test_retain_all_keeps_even_expired_points_and_says_why() -> None:
    # GIVEN two expired valid daily points in one region, a policy retaining everything
    old = [
        RecoveryPoint(
            recovery_point_id=f"lb-{n}",
            region="us-east-1",
            operation_id=f"backup:lb-{n}",
            tier=Tier.DAILY,
            taken_at=NOW - timedelta(days=100 + n),
            valid=True,
        )
        for n in range(5)
    ]
    rules = RegionRules(retention_days={Tier.DAILY: 7}, min_count=1)
    # WHEN planned
    decisions = decide(old, lambda _: rules, NOW, retain_all="policy 'prod' has forceRetain")
    # THEN nothing is deleted and the reason names the policy
    assert {d.action for d in decisions} == {Action.KEEP}
    assert {d.rule for d in decisions} == {Rule.NEWEST_VALID, Rule.RETAINED_BY_POLICY}
    assert "forceRetain" in decisions[-1].reason


def test_min_count_falls_back_to_invalid_points_when_too_few_are_valid() -> None:
    # GIVEN three expired points in a region, only the newest valid, min count 3
    history = [
        RecoveryPoint(
            recovery_point_id=f"lb-{n}",
            region="us-east-1",
            operation_id=f"backup:lb-{n}",
            tier=Tier.DAILY,
            taken_at=NOW - timedelta(days=30 + n),
            valid=n == 0,
        )
        for n in range(4)
    ]
    rules = RegionRules(retention_days={Tier.DAILY: 7}, min_count=3)
    # WHEN planned
    decisions = decide(history, lambda _: rules, NOW)
    # THEN the three newest stay (newest valid + two by minimum count), only the oldest goes
    assert [(d.point.recovery_point_id, d.rule) for d in decisions] == [
        ("lb-0", Rule.NEWEST_VALID),
        ("lb-1", Rule.MIN_COUNT),
        ("lb-2", Rule.MIN_COUNT),
        ("lb-3", Rule.EXPIRED),
    ]
