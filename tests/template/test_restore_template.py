"""Template pieces of restores and drills: what may delete, what may restore, when drills run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeboat.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
DATA_CHECK_FUNCTIONS = ("ProfileSourceFunction", "RestoreCheckFunction")


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return Template(ROOT).resources


def statements(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in resource["Properties"].get("Policies", []):
        if isinstance(policy, dict):
            yield from policy.get("Statement", [])


def actions(statement: dict[str, Any]) -> list[str]:
    granted = statement.get("Action", [])
    return [granted] if isinstance(granted, str) else list(granted)


def test_only_the_teardown_may_delete_db_instances_and_only_drill_instances(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN every statement of every function and state machine
    granting = [
        (name, statement)
        for name, resource in resources.items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for statement in statements(resource)
        if any(a.lower() in ("rds:deletedbinstance", "rds:*", "rds:delete*") for a in actions(statement))
    ]
    # THEN one statement in the template grants DeleteDBInstance, to the teardown, and only on
    # instances tagged as a drill's temporary resource
    [(name, statement)] = granting
    assert name == "TeardownFunction"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/lifeboat:purpose": "drill"}}


def test_restores_must_carry_lifeboats_tags_and_tagging_later_only_touches_ours(
    resources: dict[str, dict[str, Any]],
) -> None:
    start = next(
        s
        for s in statements(resources["RestoreStartFunction"])
        if "rds:RestoreDBInstanceFromDBSnapshot" in actions(s)
    )
    assert start["Condition"] == {"StringEquals": {"aws:RequestTag/lifeboat:managed-by": "lifeboat"}}
    assert any(str(r).endswith(":snapshot:lb-*") for r in _subs(start["Resource"]))
    tag = next(
        s for s in statements(resources["RestoreRecordFunction"]) if "rds:AddTagsToResource" in actions(s)
    )
    assert tag["Condition"] == {"StringEquals": {"aws:ResourceTag/lifeboat:managed-by": "lifeboat"}}


def test_only_the_teardown_may_delete_clusters_and_volumes_and_only_drill_ones(
    resources: dict[str, dict[str, Any]],
) -> None:
    # GIVEN every statement that may delete an Aurora cluster or an EBS volume
    deleting = ("rds:deletedbcluster", "rds:*", "rds:delete*", "ec2:deletevolume", "ec2:*", "ec2:delete*")
    granting = [
        (name, action, statement)
        for name, resource in resources.items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
        for statement in statements(resource)
        for action in actions(statement)
        if action.lower() in deleting
    ]
    # THEN they are the teardown's, one per type, each only on resources tagged as a drill's
    assert sorted((name, action) for name, action, _ in granting) == [
        ("TeardownFunction", "ec2:DeleteVolume"),
        ("TeardownFunction", "rds:DeleteDBCluster"),
    ]
    for _, _, statement in granting:
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/lifeboat:purpose": "drill"}}


def test_cluster_and_volume_restores_carry_lifeboats_tags_from_lifeboats_points(
    resources: dict[str, dict[str, Any]],
) -> None:
    start = list(statements(resources["RestoreStartFunction"]))
    managed = {"StringEquals": {"aws:RequestTag/lifeboat:managed-by": "lifeboat"}}
    # THEN the cluster restores and the writer's creation are allowed only with Lifeboat's tags
    for action in (
        "rds:RestoreDBClusterFromSnapshot",
        "rds:RestoreDBClusterToPointInTime",
        "rds:CreateDBInstance",
    ):
        [statement] = [s for s in start if action in actions(s)]
        assert statement["Condition"] == managed, action
        assert any(r.endswith(":cluster-snapshot:lb-*") for r in _subs(statement["Resource"]))
    # AND a volume is created only with Lifeboat's tags, only from a snapshot tagged as Lifeboat's
    creating = {
        _subs([s["Resource"]])[0].rsplit(":", 1)[-1]: s["Condition"]
        for s in start
        if "ec2:CreateVolume" in actions(s)
    }
    assert creating == {
        "volume/*": managed,
        "snapshot/*": {"StringEquals": {"aws:ResourceTag/lifeboat:managed-by": "lifeboat"}},
    }


def _subs(values: list[Any]) -> list[str]:
    return [v["Fn::Sub"] if isinstance(v, dict) else v for v in values]


def test_data_checks_run_in_the_configured_vpc_with_only_prefixed_secrets(
    resources: dict[str, dict[str, Any]],
) -> None:
    for name in DATA_CHECK_FUNCTIONS:
        props = resources[name]["Properties"]
        assert props["VpcConfig"]["Fn::If"][0] == "HasDataCheckVpc", name
        [secrets] = [s for s in statements(resources[name]) if "secretsmanager:GetSecretValue" in actions(s)]
        assert secrets["Resource"]["Fn::Sub"].endswith(":secret:${DataCheckSecretPrefix}*"), name


def test_drills_are_scheduled_but_not_in_dev_and_a_failed_drill_alarms(
    resources: dict[str, dict[str, Any]],
) -> None:
    schedule = resources["DrillSchedule"]["Properties"]
    assert schedule["State"] == {"Fn::If": ["IsDev", "DISABLED", "ENABLED"]}
    assert schedule["Targets"][0]["Arn"] == {"Ref": "DrillStateMachine"}
    alarm = resources["DrillFailedAlarm"]["Properties"]
    assert (alarm["MetricName"], alarm["AlarmActions"]) == ("DrillFailed", [{"Ref": "FailureTopic"}])


def test_restore_and_drill_workflows_use_their_own_functions(resources: dict[str, dict[str, Any]]) -> None:
    restore = resources["RestoreStateMachine"]["Properties"]["DefinitionSubstitutions"]
    drill = resources["DrillStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert {v["Fn::GetAtt"][0] for v in restore.values() if "Fn::GetAtt" in v} == {
        "RestorePlanFunction",
        "RestoreStartFunction",
        "RestoreWaitFunction",
        "RestoreCheckFunction",
        "RestoreRecordFunction",
    }
    assert "TeardownFunctionArn" in drill and "TeardownFunctionArn" not in restore  # a restore never deletes
