"""Template IAM of the elasticache_redis plugin: what may delete a replication group or a snapshot,
and what every ElastiCache grant is scoped to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeboat.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
THIS_ACCOUNT_AND_REGION = "arn:${AWS::Partition}:elasticache:${AWS::Region}:${AWS::AccountId}:"


@pytest.fixture(scope="module")
def granted() -> list[tuple[str, str, dict[str, Any]]]:
    """(function, action, statement) of every ElastiCache action any function or state machine has."""
    found = []
    for name, resource in Template(ROOT).resources.items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        for statement in _statements(resource):
            granted = statement.get("Action", [])
            for action in [granted] if isinstance(granted, str) else granted:
                if action.lower().startswith("elasticache:"):
                    found.append((name, action, statement))
    return found


def _statements(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in resource["Properties"].get("Policies", []):
        if isinstance(policy, dict):
            yield from policy.get("Statement", [])


def _resources(statement: dict[str, Any]) -> list[str]:
    listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return [r["Fn::Sub"] if isinstance(r, dict) else r for r in listed]


def test_only_the_teardown_deletes_replication_groups_and_only_drill_ones(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    # GIVEN every ElastiCache grant that can delete a replication group
    deleting = [
        (n, s) for n, a, s in granted if a.lower() in ("elasticache:deletereplicationgroup", "elasticache:*")
    ]
    # THEN it is the teardown's alone, on lbdrill-* groups tagged as a drill's temporary resource
    [(name, statement)] = deleting
    assert name == "TeardownFunction"
    assert _resources(statement) == [f"{THIS_ACCOUNT_AND_REGION}replicationgroup:lbdrill-*"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/lifeboat:purpose": "drill"}}


def test_only_cleanup_deletes_snapshots_and_only_lifeboats(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    [(name, statement)] = [(n, s) for n, a, s in granted if a == "elasticache:DeleteSnapshot"]
    assert name == "CleanupDeleteFunction"
    assert _resources(statement) == [f"{THIS_ACCOUNT_AND_REGION}snapshot:lb-*"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/lifeboat:managed-by": "lifeboat"}}


def test_snapshots_and_restores_are_created_only_with_lifeboats_tags_from_lifeboats_points(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    managed = {"StringEquals": {"aws:RequestTag/lifeboat:managed-by": "lifeboat"}}
    creating = [
        (n, a, s)
        for n, a, s in granted
        if a in ("elasticache:CreateSnapshot", "elasticache:CreateReplicationGroup")
    ]
    assert sorted((n, a) for n, a, _ in creating) == [
        ("RestoreStartFunction", "elasticache:CreateReplicationGroup"),
        ("SnapshotFunction", "elasticache:CreateSnapshot"),
    ]
    for _, _, statement in creating:
        assert statement["Condition"] == managed
        snapshots = [r for r in _resources(statement) if ":snapshot:" in r]
        assert snapshots == [f"{THIS_ACCOUNT_AND_REGION}snapshot:lb-*"]


def test_every_elasticache_grant_is_scoped_to_this_account_and_region(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    """GIVEN every ElastiCache grant THEN none is on '*' or another account or region: a Redis
    recovery point never leaves its group's region."""
    assert granted, "no ElastiCache grant found: the collector is broken"
    outside = [
        (n, a, r) for n, a, s in granted for r in _resources(s) if not r.startswith(THIS_ACCOUNT_AND_REGION)
    ]
    assert outside == []
