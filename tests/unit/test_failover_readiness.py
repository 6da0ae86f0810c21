"""Failover plans in the config and the readiness verdict per resource: what moves how, what it
loses, and what stops it (a loss only an operator may accept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.domain.config import parse_config
from lifeboat.domain.failover import FailoverPlanSpec, Mechanism, PointFacts, ReplicaFacts, assess
from lifeboat.errors import ConfigError, InvalidInput

ORDERS = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
PAYMENTS = "arn:aws:rds:us-east-1:123456789012:db:payments-db"
REPLICA = "arn:aws:rds:us-west-2:123456789012:db:orders-db-dr"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
SPEC = FailoverPlanSpec(
    resources=[ORDERS, PAYMENTS], max_replica_lag_seconds=60, max_recovery_point_age_minutes=120
)


def _config(**plans: Any) -> dict[str, Any]:
    return {"policies": {"dev": {"environment": "dev"}}, "failoverPlans": plans}


def _replica(lag: float | None, status: str = "available") -> ReplicaFacts:
    return ReplicaFacts(arn=REPLICA, status=status, lag_seconds=lag)


def test_a_replica_under_the_lag_limit_is_promoted_and_its_lag_is_the_data_age() -> None:
    verdict = assess(
        ORDERS, SPEC, region="us-west-2", replica=_replica(2.0), point=None, now=NOW, allow_data_loss=False
    )
    assert verdict.ready and verdict.mechanism is Mechanism.PROMOTE_REPLICA
    assert verdict.data_age_seconds == 2.0 and verdict.replica_arn == REPLICA


@pytest.mark.parametrize(("lag", "says"), [(600.0, "lags 600 s, over the plan's 60 s"), (None, "is unknown")])
def test_a_lagging_or_unknown_replica_blocks_until_the_loss_is_accepted(lag: float | None, says: str) -> None:
    # GIVEN a replica lagging over the limit, or whose lag no datapoint gives
    refused = assess(
        ORDERS, SPEC, region="us-west-2", replica=_replica(lag), point=None, now=NOW, allow_data_loss=False
    )
    # THEN it blocks, saying why and how to accept it
    assert not refused.ready
    assert says in refused.blockers[0] and "run with --allow-data-loss to accept" in refused.blockers[0]
    # AND with --allow-data-loss it is ready, the loss kept as a warning
    accepted = assess(
        ORDERS, SPEC, region="us-west-2", replica=_replica(lag), point=None, now=NOW, allow_data_loss=True
    )
    assert accepted.ready and says in accepted.warnings[0]


def test_a_replica_that_is_not_available_blocks_even_with_data_loss_accepted() -> None:
    verdict = assess(
        ORDERS,
        SPEC,
        region="us-west-2",
        replica=_replica(1.0, "storage-full"),
        point=None,
        now=NOW,
        allow_data_loss=True,
    )
    assert not verdict.ready and "is storage-full, not available" in verdict.blockers[0]


def test_without_a_replica_the_newest_copy_is_restored_if_recent_enough() -> None:
    recent = PointFacts(recovery_point_id="lb-payments-db-hourly-1", taken_at=NOW - timedelta(minutes=30))
    verdict = assess(
        PAYMENTS, SPEC, region="us-west-2", replica=None, point=recent, now=NOW, allow_data_loss=False
    )
    assert verdict.ready and verdict.mechanism is Mechanism.RESTORE_COPY and verdict.data_age_seconds == 1800
    stale = PointFacts(recovery_point_id="lb-payments-db-daily-1", taken_at=NOW - timedelta(hours=5))
    verdict = assess(
        PAYMENTS, SPEC, region="us-west-2", replica=None, point=stale, now=NOW, allow_data_loss=False
    )
    assert not verdict.ready and "is 300 min old, over the plan's 120 min" in verdict.blockers[0]


def test_with_nothing_in_the_region_there_is_nothing_to_fail_over_to() -> None:
    verdict = assess(
        PAYMENTS, SPEC, region="us-west-2", replica=None, point=None, now=NOW, allow_data_loss=True
    )
    assert verdict.mechanism is None and not verdict.ready
    assert "nothing to fail over to" in verdict.blockers[0]


def test_a_dns_record_must_follow_a_resource_of_its_plan() -> None:
    record = {"hostedZoneId": "Z123", "name": "payments.db.example.internal", "resourceArn": PAYMENTS}
    with pytest.raises(
        ConfigError, match=r"dnsRecords name resources the plan does not fail over: .*payments-db"
    ):
        parse_config(_config(orders={"resources": [ORDERS], "dnsRecords": [record]}))


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ({"resources": []}, "failoverPlans.orders.resources"),
        ({"resources": [ORDERS, ORDERS]}, "listed more than once"),
        ({"resources": ["orders-db"]}, "failoverPlans.orders.resources.0"),
        (
            {
                "resources": [ORDERS],
                "dnsRecords": [{"hostedZoneId": "z!", "name": "x.y", "resourceArn": ORDERS}],
            },
            "hostedZoneId",
        ),
        (
            {
                "resources": [ORDERS],
                "dnsRecords": [{"hostedZoneId": "Z1", "name": "not a name", "resourceArn": ORDERS}],
            },
            "name",
        ),
        ({"resources": [ORDERS], "maxReplicaLagSeconds": 0}, "maxReplicaLagSeconds"),
    ],
)
def test_a_bad_failover_plan_is_refused_naming_the_field(plan: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        parse_config(_config(orders=plan))


def test_no_plan_named_runs_the_only_one_and_several_must_be_named() -> None:
    one = parse_config(_config(orders={"resources": [ORDERS]}))
    assert one.failover_plan(None)[0] == "orders"
    two = parse_config(_config(orders={"resources": [ORDERS]}, payments={"resources": [PAYMENTS]}))
    with pytest.raises(
        InvalidInput, match=r"plan: name the failover plan to run; known plans: orders, payments"
    ):
        two.failover_plan(None)
    with pytest.raises(
        InvalidInput, match="no failover plan 'nope' in the config; known plans: orders, payments"
    ):
        two.failover_plan("nope")
