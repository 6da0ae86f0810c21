"""Template IAM of the elasticache_redis plugin: what may delete a replication group or a snapshot,
what may export one to S3, and what every ElastiCache and S3 grant is scoped to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeboat.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
THIS_ACCOUNT_AND_REGION = "arn:${AWS::Partition}:elasticache:${AWS::Region}:${AWS::AccountId}:"
THIS_ACCOUNT_ANY_REGION = "arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:"
LIFEBOATS_BUCKETS = "arn:${AWS::Partition}:s3:::lifeboat-elasticache-${AWS::AccountId}-*"
# A snapshot is made, exported and deleted only in the group's region (this stack's).
SNAPSHOT_WRITES = ("elasticache:CreateSnapshot", "elasticache:CopySnapshot", "elasticache:DeleteSnapshot")


@pytest.fixture(scope="module")
def granted() -> list[tuple[str, str, dict[str, Any]]]:
    """(function, action, statement) of every ElastiCache action any function or state machine has."""
    return _granted("elasticache:")


def _granted(prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, resource in Template(ROOT).resources.items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        for statement in _statements(resource):
            granted = statement.get("Action", [])
            for action in [granted] if isinstance(granted, str) else granted:
                if action.lower().startswith(prefix):
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
    # (in any region: a drill restores a DR copy in its DR region)
    [(name, statement)] = deleting
    assert name == "TeardownFunction"
    assert _resources(statement) == [f"{THIS_ACCOUNT_ANY_REGION}replicationgroup:lbdrill-*"]
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
    for name, _, statement in creating:
        assert statement["Condition"] == managed
        snapshots = [r for r in _resources(statement) if ":snapshot:" in r]
        # A restore runs where its point is: the group's region or a DR region.
        where = THIS_ACCOUNT_ANY_REGION if name == "RestoreStartFunction" else THIS_ACCOUNT_AND_REGION
        assert snapshots == [f"{where}snapshot:lb-*"]


def test_only_the_copy_step_exports_snapshots_and_only_lifeboats(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    """GIVEN every grant of CopySnapshot (the export to S3) THEN it is the copy step's, on this
    region's lb-* snapshots (the export's name is the point's)."""
    [(name, statement)] = [(n, s) for n, a, s in granted if a == "elasticache:CopySnapshot"]
    assert name == "ReplicateFunction"
    assert _resources(statement) == [f"{THIS_ACCOUNT_AND_REGION}snapshot:lb-*"]


def test_every_elasticache_grant_is_this_accounts_and_snapshots_change_only_in_this_region(
    granted: list[tuple[str, str, dict[str, Any]]],
) -> None:
    """GIVEN every ElastiCache grant THEN none is on '*' or another account; a snapshot is created,
    exported and deleted only in this region; other regions are reached by restores, drills and
    reads only (a DR copy is restored where it is)."""
    assert granted, "no ElastiCache grant found: the collector is broken"
    resources = [(n, a, r) for n, a, s in granted for r in _resources(s)]
    assert [x for x in resources if not _within(x[2], THIS_ACCOUNT_AND_REGION, THIS_ACCOUNT_ANY_REGION)] == []
    assert [
        x for x in resources if x[1] in SNAPSHOT_WRITES and not x[2].startswith(THIS_ACCOUNT_AND_REGION)
    ] == []


def test_every_s3_grant_of_the_cache_copies_is_on_lifeboats_buckets() -> None:
    """GIVEN every S3 grant on ElastiCache copies THEN it names Lifeboat's buckets (lb-* objects
    for object actions), except the two AWS requires for an export, which have no bucket scope."""
    unscoped = {"s3:GetBucketLocation", "s3:ListAllMyBuckets"}
    found = [(n, a, s) for n, a, s in _granted("s3:") if LIFEBOATS_BUCKETS in str(s) or a in unscoped]
    assert found, "no S3 grant found for the ElastiCache copies: the collector is broken"
    for name, action, statement in found:
        if action in unscoped:
            assert (name, _resources(statement)) == ("ReplicateFunction", ["*"])
            continue
        for resource in _resources(statement):
            assert resource in (LIFEBOATS_BUCKETS, f"{LIFEBOATS_BUCKETS}/lb-*"), (name, action, resource)


def _within(resource: str, *prefixes: str) -> bool:
    return resource.startswith(prefixes)
