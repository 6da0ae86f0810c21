"""The backup plan checks the DR keys once per run (issue 19): one KMS call per region and key
instead of one per copy, never a call to a region whose breaker is open."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from lifeboat.domain.policy import Policy
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import plan_keys
from lifeboat.service.deps import Deps, deps_from_env
from lifeboat.state import breakers

from .plugin_aws import new_key

WEST = "us-west-2"


def _key(deps: Deps, region: str, alias: str | None = None) -> str:
    arn = new_key(deps.clients, region, f"DR copies in {region}")
    if alias:
        deps.clients("kms", region).create_alias(AliasName=alias, TargetKeyId=arn)
    return arn


@pytest.fixture
def deps() -> Iterator[Deps]:
    with LocalCloud():
        yield deps_from_env()


def _policy(targets: dict[str, str]) -> Policy:
    return Policy.model_validate(
        {
            "name": "prod",
            "environment": "prod",
            "rpoMinutes": 1440,
            "retentionDays": {"daily": 7},
            "drRegions": [{"region": r, "kmsKeyId": k} for r, k in targets.items()],
        }
    )


def test_the_plan_checks_each_dr_key_once_and_leaves_out_what_it_cannot_check(deps: Deps) -> None:
    # GIVEN two policies sharing the us-west-2 alias, and eu-west-1's key disabled
    west = _key(deps, WEST, alias="alias/lifeboat-dr")
    eu = _key(deps, "eu-west-1")
    deps.clients("kms", "eu-west-1").disable_key(KeyId=eu.rsplit("/", 1)[-1])
    policies = [_policy({WEST: "alias/lifeboat-dr", "eu-west-1": eu}), _policy({WEST: "alias/lifeboat-dr"})]
    # WHEN the plan checks the keys
    checked = plan_keys.checked_keys(deps, policies, "daily-1")
    # THEN the alias is checked once and known by its ARN; the disabled key is left out for its
    # copy step to refuse in eu-west-1 alone
    assert [(k.region, k.key_id, k.arn) for k in checked] == [(WEST, "alias/lifeboat-dr", west)]
    # AND an encrypted source's copy targets carry the checked ARN, the unchecked key as named
    targets = [plan_keys.copy_target(t, True, checked) for t in policies[0].dr_regions]
    assert [(t.region, t.kms_key_id) for t in targets] == [(WEST, west), ("eu-west-1", eu)]


def test_the_plan_does_not_call_a_dr_region_whose_breaker_is_open(deps: Deps) -> None:
    # GIVEN us-west-2's breaker tripped by a run's failing copies
    _key(deps, WEST, alias="alias/lifeboat-dr")
    for _ in range(breakers.TRIP_AFTER):
        breakers.trip(deps.store, WEST, now=deps.now(), reason="503", run_id="daily-1")
    # WHEN the plan checks the keys THEN it asks KMS nothing there and lists no key of it: the
    # copy steps meet the breaker, the plan (and every other resource's backup) is not held
    with mock.patch.object(plan_keys, "resolve_usable_key", side_effect=AssertionError("called")):
        assert plan_keys.checked_keys(deps, [_policy({WEST: "alias/lifeboat-dr"})], "daily-2") == []
