"""The safety rules of failover experiments, pure: what refuses a fault before it is injected,
when a resource counts as recovered, and what fails an experiment afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lifeboat.domain.experiments import (
    ExperimentSpec,
    TargetState,
    post_check_problems,
    pre_check_problems,
    recovered,
)
from pydantic import ValidationError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
INSTANCE = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:ledger-aurora"
REBOOT = ExperimentSpec.model_validate({"kind": "rds-reboot-failover", "resourceArn": INSTANCE})
AURORA = ExperimentSpec.model_validate({"kind": "aurora-cluster-failover", "resourceArn": CLUSTER})
READY = TargetState(status="available", multi_az=True, availability_zone="us-east-1a", opted_in=True)


def _problems(spec: ExperimentSpec, state: TargetState, **overrides: object) -> list[str]:
    facts: dict[str, object] = {
        "newest_valid_point_at": NOW - timedelta(hours=2),
        "rpo_minutes": 24 * 60,
        "replica_lags": {},
        "alarms_firing": [],
        "now": NOW,
    } | overrides
    return pre_check_problems(spec, state, **facts)  # type: ignore[arg-type]


def test_a_ready_multi_az_instance_passes_every_pre_check() -> None:
    assert _problems(REBOOT, READY) == []


def test_each_unsafe_condition_is_named() -> None:
    # GIVEN a single-AZ instance, not opted in, whose newest point is two days old, with a lagging
    # replica and a stop alarm firing
    state = TargetState(status="available", multi_az=False, opted_in=False)
    problems = _problems(
        REBOOT,
        state,
        newest_valid_point_at=NOW - timedelta(days=2),
        replica_lags={"arn:aws:rds:us-west-2:123456789012:db:orders-db-dr": 900.0},
        alarms_firing=["orders-errors"],
    )
    # THEN every reason is there, each saying what to do or why
    assert len(problems) == 5
    assert any("not Multi-AZ" in p for p in problems)
    assert any("not tagged lifeboat:experiments=allowed" in p for p in problems)
    assert any("2880 min old, over its 1440 min RPO" in p for p in problems)
    assert any("lags 900 s, over 300 s" in p for p in problems)
    assert "stop alarm orders-errors is in ALARM" in problems


def test_a_fault_must_fit_the_resource_type_and_an_unprotected_resource_is_refused() -> None:
    wrong = ExperimentSpec.model_validate({"kind": "aurora-cluster-failover", "resourceArn": INSTANCE})
    problems = _problems(wrong, READY, rpo_minutes=None)
    assert "aurora-cluster-failover needs an Aurora DB cluster" in problems[0]
    assert any("not protected by a Lifeboat policy" in p for p in problems)
    assert any("has no reader" in p for p in problems)


def test_recovery_means_the_fault_is_visible_and_the_resource_available() -> None:
    before = TargetState(status="available", writer="ledger-1", readers=["ledger-2"], opted_in=True)
    assert recovered(AURORA, before, before.model_copy(update={"status": "failing-over"})) == (
        False,
        "failing-over",
    )
    assert recovered(AURORA, before, before) == (False, "writer still ledger-1")
    moved = before.model_copy(update={"writer": "ledger-2", "readers": ["ledger-1"]})
    assert recovered(AURORA, before, moved) == (True, "writer moved ledger-1 -> ledger-2")


def test_a_slow_recovery_or_a_new_endpoint_fails_the_experiment() -> None:
    before = READY.model_copy(update={"endpoint": "orders-db.x.rds.amazonaws.com"})
    after = before.model_copy(update={"availability_zone": "us-east-1b"})
    assert post_check_problems(REBOOT, before, after, 42.0) == []
    slow = post_check_problems(REBOOT, before, after, 601.0)
    assert slow == ["recovery took 601 s, over the experiment's 600 s"]
    moved = post_check_problems(REBOOT, before, after.model_copy(update={"endpoint": "other"}), 1.0)
    assert "the endpoint changed" in moved[0]


def test_an_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        ExperimentSpec.model_validate({"kind": "delete-everything", "resourceArn": INSTANCE})


def test_a_promotion_drill_needs_a_dr_region_other_than_the_sources() -> None:
    # GIVEN a replica-promotion drill without a region, and one naming the source's own region
    for region in (None, "us-east-1"):
        spec = ExperimentSpec.model_validate(
            {"kind": "replica-promotion-drill", "resourceArn": INSTANCE, "region": region}
        )
        # THEN it is refused before anything is made, saying what to set
        assert "needs region: a DR region" in (spec.kind_problem() or "")
    ok = ExperimentSpec.model_validate(
        {"kind": "replica-promotion-drill", "resourceArn": INSTANCE, "region": "us-west-2"}
    )
    assert ok.kind_problem() is None and ok.kind.rollback == "delete the drill copy"
