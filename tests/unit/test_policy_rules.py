"""Environment rules of the brief, checked before anything runs, with messages operators can act on."""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.config import parse_config
from lifeboat.domain.policy import DrTarget, Environment, Policy, Tier, policy_violations, resource_violations
from lifeboat.errors import ConfigError, PolicyViolation

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
TWO_DR_REGIONS = [
    {"region": "us-west-2", "kmsKeyId": "alias/lifeboat-dr"},
    {"region": "eu-west-1", "kmsKeyId": "alias/lifeboat-dr"},
]


def _policy(**body: Any) -> Policy:
    return Policy.model_validate({"name": "p", **body})


def _config(**policy_body: Any) -> dict[str, Any]:
    return {"policies": {"p": policy_body}}


def test_a_complete_prod_policy_is_accepted() -> None:
    # GIVEN a prod policy with the default retention and two DR regions with keys
    document = _config(environment="prod", drRegions=TWO_DR_REGIONS)
    # WHEN the config is parsed
    config = parse_config(document)
    # THEN it is accepted, backups are on and the brief's prod retention applies
    policy = config.policy("p")
    assert policy.backups_enabled
    assert policy.effective_retention == {Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 7 * 365}


def test_prod_backups_cannot_be_disabled() -> None:
    # GIVEN a prod policy that disables backups
    document = _config(environment="prod", enabled=False, drRegions=TWO_DR_REGIONS)
    # WHEN the config is parsed THEN it is refused with the reason
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    assert "policy 'p' (prod): backups cannot be disabled in prod" in str(refused.value)


def test_prod_retention_below_seven_days_is_refused() -> None:
    # GIVEN a prod policy keeping daily points 6 days
    document = _config(environment="prod", retentionDays={"daily": 6}, drRegions=TWO_DR_REGIONS)
    # WHEN the config is parsed THEN the message gives the tier, the days and the minimum
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    assert "policy 'p' (prod): daily retention is 6 days; prod requires at least 7" in str(refused.value)


def test_prod_retention_of_exactly_seven_days_is_allowed() -> None:
    # GIVEN a prod policy at the minimum retention
    policy = _policy(environment="prod", retentionDays={"daily": 7}, drRegions=TWO_DR_REGIONS)
    # THEN no rule is broken
    assert policy_violations(policy) == []


@pytest.mark.parametrize("regions", [[], TWO_DR_REGIONS[:1]])
def test_prod_needs_at_least_two_dr_regions(regions: list[dict[str, str]]) -> None:
    # GIVEN a prod policy with fewer than two DR regions
    document = _config(environment="prod", drRegions=regions)
    # WHEN the config is parsed THEN it is refused and says how many are configured
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    expected = "prod copies every recovery point to at least 2 DR regions"
    assert f"policy 'p' (prod): {expected}; {len(regions)} configured" in str(refused.value)


@pytest.mark.parametrize("environment", ["prod", "staging", "dev"])
def test_a_dr_region_listed_twice_is_refused(environment: str) -> None:
    # GIVEN a policy naming us-west-2 twice
    regions = [{"region": "us-west-2", "kmsKeyId": "k1"}, {"region": "us-west-2", "kmsKeyId": "k2"}]
    document = _config(environment=environment, drRegions=regions)
    # WHEN the config is parsed THEN the duplicate region is named
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    assert f"policy 'p' ({environment}): DR regions listed more than once: us-west-2" in str(refused.value)


def test_every_broken_rule_is_reported_at_once() -> None:
    # GIVEN a prod policy breaking three rules
    document = _config(environment="prod", enabled=False, retentionDays={"daily": 3})
    # WHEN the config is parsed THEN the operator sees all three, one per line
    with pytest.raises(PolicyViolation) as refused:
        parse_config(document)
    lines = str(refused.value).splitlines()
    assert lines[0] == "policy rules broken:"
    assert len(lines) == 4


def test_a_dr_region_equal_to_the_source_region_is_refused() -> None:
    # GIVEN a staging policy copying to us-east-1 and a resource living in us-east-1
    policy = _policy(environment="staging", drRegions=[{"region": "us-east-1", "kmsKeyId": "k"}])
    # WHEN the policy is applied to the resource
    problems = resource_violations(policy, resource_arn=ARN, source_region="us-east-1", encrypted=False)
    # THEN the rule names the resource, the region and why it matters
    assert problems == [
        f"{ARN}: DR region us-east-1 is the source region; a copy there does not survive a regional outage"
    ]


def test_an_encrypted_source_needs_a_key_in_every_dr_region() -> None:
    # GIVEN a policy with a key for us-west-2 only, applied to an encrypted resource
    policy = _policy(
        environment="prod",
        drRegions=[{"region": "us-west-2", "kmsKeyId": "alias/lifeboat-dr"}, {"region": "eu-west-1"}],
    )
    # WHEN the policy is applied
    problems = resource_violations(policy, resource_arn=ARN, source_region="us-east-1", encrypted=True)
    # THEN eu-west-1 is named and the fix is spelled out
    assert problems == [
        f"{ARN}: the source is encrypted but policy 'p' names no KMS key for DR region eu-west-1 "
        "(set drRegions[].kmsKeyId)"
    ]


def test_an_unencrypted_source_needs_no_destination_key() -> None:
    # GIVEN a policy without keys, applied to an unencrypted resource in another region
    policy = _policy(environment="prod", drRegions=[{"region": "us-west-2"}, {"region": "eu-west-1"}])
    # THEN nothing is wrong
    assert resource_violations(policy, resource_arn=ARN, source_region="us-east-1", encrypted=False) == []


def test_a_type_that_cannot_copy_is_refused_under_a_policy_with_dr_regions() -> None:
    # GIVEN a resource whose type cannot copy a recovery point to another region
    cannot = "example_type recovery points cannot be copied: it has no cross-region copy"
    cache = "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions"
    # WHEN it is put under a prod policy with two DR regions, and under one without any
    refused = resource_violations(
        _policy(environment="prod", drRegions=TWO_DR_REGIONS),
        resource_arn=cache,
        source_region="us-east-1",
        encrypted=False,
        copy_unsupported=cannot,
    )
    accepted = resource_violations(
        _policy(environment="staging"),
        resource_arn=cache,
        source_region="us-east-1",
        encrypted=False,
        copy_unsupported=cannot,
    )
    # THEN the first is refused naming the regions, the reason and the way out; the second is fine
    assert refused == [
        f"{cache}: policy 'p' copies every recovery point to us-west-2, eu-west-1, but {cannot}. "
        "Protect it with a policy without drRegions (e.g. a staging or dev policy, or one dedicated "
        "to caches)"
    ]
    assert accepted == []


def test_dev_backups_are_off_by_default_and_may_be_enabled() -> None:
    # GIVEN two dev policies, one silent, one opting in
    silent = _policy(environment="dev")
    opted_in = _policy(environment="dev", enabled=True)
    # THEN only the opt-in one backs up, and neither breaks a rule
    assert not silent.backups_enabled
    assert opted_in.backups_enabled
    assert policy_violations(silent) == policy_violations(opted_in) == []


def test_staging_backups_are_on_by_default() -> None:
    """GIVEN a staging policy that does not say WHEN asked THEN its backups are on."""
    assert _policy(environment="staging").backups_enabled


@pytest.mark.parametrize(
    ("environment", "retention"),
    [
        (Environment.DEV, {Tier.DAILY: 7}),
        (Environment.STAGING, {Tier.DAILY: 14}),
        (Environment.PROD, {Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 2555}),
    ],
)
def test_retention_defaults_follow_the_environment(
    environment: Environment, retention: dict[Tier, int]
) -> None:
    # GIVEN a policy that sets no retention
    policy = _policy(environment=environment.value, drRegions=TWO_DR_REGIONS)
    # THEN the brief's table applies, and tiers outside it have none
    assert policy.effective_retention == retention
    assert policy.retention_for(Tier.YEARLY) is None


def test_explicit_retention_replaces_the_default() -> None:
    """GIVEN a staging policy keeping daily points 21 days THEN 21 days apply, not the default 14."""
    policy = _policy(environment="staging", retentionDays={"daily": 21})
    assert policy.retention_for(Tier.DAILY) == 21


@pytest.mark.parametrize(
    ("document", "location", "message"),
    [
        (_config(environment="qa"), "policies.p.environment", "Input should be 'dev', 'staging' or 'prod'"),
        (_config(environment="dev", retentionDays={"daily": 0}), "policies.p.retentionDays", "positive"),
        (
            _config(environment="dev", drRegions=[{"region": "mars"}]),
            "policies.p.drRegions.0.region",
            "pattern",
        ),
        (_config(environment="dev", rpoMinutes=0), "policies.p.rpoMinutes", "greater than 0"),
        (_config(environment="dev", bogus=1), "policies.p.bogus", "Extra inputs are not permitted"),
        ({"policies": {"p": {}}}, "policies.p.environment", "Field required"),
        ({}, "policies", "Field required"),
        (
            {"policies": {"p": {"environment": "dev"}}, "resources": [{"arn": "orders-db", "policy": "p"}]},
            "resources.0",
            "malformed ARN 'orders-db'",
        ),
    ],
)
def test_config_errors_name_their_location(document: dict[str, Any], location: str, message: str) -> None:
    # GIVEN a config document with one mistake
    # WHEN it is parsed
    with pytest.raises(ConfigError) as refused:
        parse_config(document)
    # THEN the error line starts with the place of the mistake and says what is wrong
    problem = next(line.strip() for line in str(refused.value).splitlines()[1:] if line.strip())
    assert problem.startswith(f"{location}: ")
    assert message in problem


def test_a_listed_resource_naming_an_unknown_policy_is_refused() -> None:
    # GIVEN a config listing a resource under a policy it does not define
    document = {
        "policies": {"prod": {"environment": "prod", "drRegions": TWO_DR_REGIONS}},
        "resources": [{"arn": ARN, "policy": "gold"}],
    }
    # WHEN it is parsed THEN the unknown policy is named
    with pytest.raises(ConfigError, match="resources name unknown policies: gold"):
        parse_config(document)


def test_asking_for_an_undefined_policy_lists_the_known_ones() -> None:
    # GIVEN a valid config
    config = parse_config({"policies": {"dev": {"environment": "dev"}, "qa": {"environment": "staging"}}})
    # WHEN a resource is tagged with a policy that does not exist
    with pytest.raises(ConfigError) as refused:
        config.policy("gold")
    # THEN the operator learns which policies exist
    assert str(refused.value) == "policy 'gold' is not defined; known policies: dev, qa"


def test_dr_target_without_key_is_allowed_in_the_model() -> None:
    """GIVEN a DR target without key THEN it parses: the key requirement is checked per (encrypted) resource.
    GIVEN a DR target without key THEN it parses: the key requirement is checked per (encrypted) resource."""
    # An unencrypted resource needs no key: the key requirement is checked per resource.
    assert DrTarget(region="us-west-2").kms_key_id is None
