"""Policy rules cleanup relies on: refused with a message naming the policy and the rule."""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.config import parse_config
from lifeboat.domain.policy import Policy, RemovalPolicy, Tier, policy_violations
from lifeboat.errors import ConfigError, PolicyViolation

DR = [{"region": "us-west-2", "kmsKeyId": "alias/dr"}, {"region": "eu-west-1", "kmsKeyId": "alias/dr"}]


def prod(**fields: Any) -> Policy:
    return Policy.model_validate({"name": "prod", "environment": "prod", "drRegions": DR, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"removalPolicy": "DESTROY"}, "removal policy DESTROY is not allowed for prod stateful resources"),
        ({"forceRetain": True, "removalPolicy": "SNAPSHOT"}, "forceRetain forces removal policy RETAIN"),
        (
            {"retentionDays": {"daily": 30, "weekly": 14}},
            "in the source region, weekly retention (14 days) is shorter than daily retention (30 days)",
        ),
        (
            {"drRegions": [{**DR[0], "retentionDays": {"daily": 10}}, DR[1]]},
            "daily retention in DR region us-west-2 (10 days) is shorter than in the source region (30 days)",
        ),
        (
            {"retentionDays": {"daily": 7}, "drRegions": [{**DR[0], "retentionDays": {"daily": 5}}, DR[1]]},
            "daily retention in us-west-2 is 5 days; prod requires at least 7",
        ),
    ],
)
def test_prod_retention_rules_are_refused_with_a_clear_message(fields: dict[str, Any], message: str) -> None:
    # GIVEN a prod policy breaking one retention rule
    # WHEN it is checked
    problems = policy_violations(prod(**fields))
    # THEN that rule is reported, naming the policy
    assert any(message in problem for problem in problems), problems
    assert all(problem.startswith("policy 'prod' (prod): ") for problem in problems)


def test_a_config_with_a_broken_rule_is_refused_before_anything_runs() -> None:
    # GIVEN a config whose prod policy asks for DESTROY
    document = {"policies": {"prod": {"environment": "prod", "drRegions": DR, "removalPolicy": "DESTROY"}}}
    # WHEN it is parsed (deploy time: the CLI; run time: every handler)
    # THEN it is refused as a policy violation
    with pytest.raises(PolicyViolation, match="DESTROY is not allowed"):
        parse_config(document)


def test_minimum_count_below_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"policies\.dev\.minRecoveryPoints"):
        parse_config({"policies": {"dev": {"environment": "dev", "minRecoveryPoints": 0}}})


def test_dev_may_destroy_and_a_dr_region_may_keep_longer() -> None:
    # GIVEN a dev policy with DESTROY and a prod policy whose DR region keeps dailies 90 days
    dev = Policy(name="dev", environment="dev", removal_policy=RemovalPolicy.DESTROY)  # type: ignore[arg-type]
    longer = prod(drRegions=[{**DR[0], "retentionDays": {"daily": 90}}, DR[1]])
    # THEN both are accepted and the DR region's window is the longer one
    assert policy_violations(dev) == []
    assert policy_violations(longer) == []
    assert longer.retention_in("us-west-2")[Tier.DAILY] == 90
    assert longer.retention_in("eu-west-1")[Tier.DAILY] == 30
    assert longer.retention_in("us-east-1")[Tier.WEEKLY] == 365


def test_force_retain_means_retain() -> None:
    assert prod(forceRetain=True).effective_removal_policy is RemovalPolicy.RETAIN
    assert prod().effective_removal_policy is RemovalPolicy.SNAPSHOT
