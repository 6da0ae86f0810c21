"""The resource plugin contract, checked over every registered plugin.

Adding a resource type is one plugin module, its functional tests and its IAM lines in
template.yaml: these tests fail when any of the three is missing.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import UnsupportedOperation
from lifeboat.local.template import load_template
from lifeboat.plugins import ENTRIES, REGISTRY, plugin_class_for
from lifeboat.plugins.base import PluginOperation, ResourcePlugin
from lifeboat.plugins.rds.instance import RdsInstancePlugin
from pydantic import ValidationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONAL_TESTS = PROJECT_ROOT / "tests" / "functional"

# Which template function runs each operation (service/backup.py, service/cleanup.py): its role
# must grant the operation's actions. Create and copy also describe, to accept a point that
# already exists; cleanup describes a point to re-check its tags before deleting it.
OPERATION_FUNCTIONS: dict[PluginOperation, tuple[str, ...]] = {
    PluginOperation.DISCOVER: ("PlanFunction", "DrillPlanFunction"),
    # A restore inherits the source's network and tags and checks its point-in-time window;
    # cleanup asks whether a resource's source still exists (its removal policy then applies).
    PluginOperation.DESCRIBE_SOURCE: ("HealthCheckFunction", "RestorePlanFunction", "CleanupPlanFunction"),
    PluginOperation.SNAPSHOT_QUOTA: ("HealthCheckFunction", "PlanFunction"),
    PluginOperation.CREATE: ("SnapshotFunction",),
    PluginOperation.DESCRIBE_RECOVERY_POINT: (
        "SnapshotFunction",
        "ValidateFunction",
        "ReplicateFunction",
        "CleanupDeleteFunction",
        "RestorePlanFunction",
    ),
    PluginOperation.COPY: ("ReplicateFunction",),
    PluginOperation.DELETE: ("CleanupDeleteFunction",),
    # service/restore/ and service/drill.py
    PluginOperation.RESTORE: ("RestoreStartFunction",),
    PluginOperation.RESTORE_TO_TIME: ("RestoreStartFunction",),
    PluginOperation.DESCRIBE_RESTORED: (
        "RestorePlanFunction",
        "RestoreStartFunction",
        "RestoreWaitFunction",
        "RestoreCheckFunction",
        "RestoreRecordFunction",
        "TeardownFunction",
    ),
    PluginOperation.DELETE_RESTORED: ("TeardownFunction",),
    PluginOperation.TAG_RESTORED: ("RestoreRecordFunction",),
    # The backup's preflight (service/continuous.py) keeps a policy's continuous protection on.
    PluginOperation.CONTINUOUS: ("HealthCheckFunction",),
}
# A function that runs an operation only on behalf of another needs its actions only when that
# other operation is supported: the copy step describes a point only to accept an existing copy.
ON_BEHALF_OF = {("ReplicateFunction", PluginOperation.DESCRIBE_RECOVERY_POINT): PluginOperation.COPY}

SAMPLE_ARNS = {
    "rds_instance": "arn:aws:rds:us-east-1:123456789012:db:orders-db",
    "rds_cluster": "arn:aws:rds:us-east-1:123456789012:cluster:ledger-aurora",
    "ebs_volume": "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0",
    "dynamodb_table": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders_Prod",
    "elasticache_redis": "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions-redis",
}

PLUGINS = sorted(REGISTRY.values(), key=lambda p: p.resource_type)


def _granted_actions(function_logical_id: str) -> set[str]:
    resource = load_template().resources[function_logical_id]
    actions: set[str] = set()
    for policy in resource["Properties"].get("Policies", []):
        if not isinstance(policy, dict) or "Statement" not in policy:
            continue
        for statement in policy["Statement"]:
            if statement.get("Effect") == "Allow":
                granted = statement.get("Action", [])
                actions.update([granted] if isinstance(granted, str) else granted)
    return actions


def _is_granted(action: str, granted: set[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in granted)


def _supported(plugin: type[ResourcePlugin]) -> Iterator[PluginOperation]:
    return (op for op in PluginOperation if op not in plugin.unsupported)


def _functions_running(plugin: type[ResourcePlugin], operation: PluginOperation) -> Iterator[str]:
    for function in OPERATION_FUNCTIONS.get(operation, ()):
        if ON_BEHALF_OF.get((function, operation)) not in plugin.unsupported:
            yield function


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.resource_type)
def test_every_operation_is_declared_supported_or_unsupported(plugin: type[ResourcePlugin]) -> None:
    """GIVEN a registered plugin THEN every contract operation either has its IAM actions
    declared or is declared unsupported with a reason an operator can act on."""
    undeclared = [op for op in _supported(plugin) if op not in plugin.iam_actions]
    unexplained = [op for op, reason in plugin.unsupported.items() if len(reason) < 20]

    assert not undeclared, f"{plugin.resource_type}: no IAM actions declared for {undeclared}"
    assert not unexplained, f"{plugin.resource_type}: unsupported without a reason: {unexplained}"
    assert plugin.max_concurrent_copies > 0


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.resource_type)
def test_template_grants_each_operations_actions_to_the_function_running_it(
    plugin: type[ResourcePlugin],
) -> None:
    """GIVEN a plugin's declared IAM actions WHEN template.yaml is read THEN the function that
    runs each operation is allowed every action that operation calls."""
    missing = [
        f"{function} lacks {action} ({operation.value})"
        for operation in _supported(plugin)
        for function in _functions_running(plugin, operation)
        for action in sorted(plugin.iam_actions[operation])
        if not _is_granted(action, _granted_actions(function))
    ]

    assert not missing, f"{plugin.resource_type}:\n" + "\n".join(missing)


class _NoCopyPlugin(RdsInstancePlugin):
    """A type whose copies are unsupported (none of the registered types is one today)."""

    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.COPY: "this type has no cross-region copy of any kind"
    }


def test_the_copy_step_must_grant_describe_only_for_types_that_copy() -> None:
    """GIVEN a type that copies and one whose copies are unsupported THEN the copy step is held to
    the describe actions of the first only (it describes a point only to accept a copy)."""
    describe = PluginOperation.DESCRIBE_RECOVERY_POINT
    assert "ReplicateFunction" in list(_functions_running(REGISTRY["rds_instance"], describe))
    assert "ReplicateFunction" in list(_functions_running(REGISTRY["elasticache_redis"], describe))
    assert "ReplicateFunction" not in list(_functions_running(_NoCopyPlugin, describe))
    assert "ValidateFunction" in list(_functions_running(_NoCopyPlugin, describe))


def test_the_iam_check_catches_an_action_the_template_does_not_grant() -> None:
    """GIVEN an action no function is granted THEN the check reports it (it is not vacuous)."""
    assert not _is_granted("rds:DeleteDBClusterSnapshot", _granted_actions("SnapshotFunction"))
    assert _is_granted("rds:CreateDBClusterSnapshot", _granted_actions("SnapshotFunction"))


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.resource_type)
def test_options_schema_is_declared_and_strict(plugin: type[ResourcePlugin]) -> None:
    """GIVEN a plugin's options schema THEN the defaults validate, it has a JSON schema, and an
    unknown option is an error rather than silently ignored."""
    plugin.options_model.model_validate({})
    assert plugin.options_model.model_json_schema()["type"] == "object"
    with pytest.raises(ValidationError):
        plugin.options_model.model_validate({"noSuchOption": True})


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.resource_type)
def test_each_plugin_has_a_functional_test_module(plugin: type[ResourcePlugin]) -> None:
    """GIVEN a registered plugin THEN tests/functional/test_plugin_<type>.py exercises it on moto."""
    module = FUNCTIONAL_TESTS / f"test_plugin_{plugin.resource_type}.py"

    assert module.is_file(), f"missing {module.relative_to(PROJECT_ROOT)}"
    assert plugin.__name__ in module.read_text()


@pytest.mark.parametrize(("resource_type", "arn"), sorted(SAMPLE_ARNS.items()))
def test_arns_route_to_their_plugin(resource_type: str, arn: str) -> None:
    """GIVEN a resource ARN THEN the registry picks the plugin of its type."""
    assert plugin_class_for(ResourceRef.parse(arn)).resource_type == resource_type


@pytest.mark.parametrize("resource_type", sorted(ENTRIES))
def test_each_registry_entry_names_its_plugin_and_its_arn(resource_type: str) -> None:
    """GIVEN the lazy registry's entry of a type THEN it imports the class of that type, and the
    ARN (service, kind) it routes by is the class's own."""
    entry, plugin = ENTRIES[resource_type], REGISTRY[resource_type]
    assert plugin.resource_type == resource_type
    assert (entry.arn_service, entry.arn_kind) == (plugin.arn_service, plugin.arn_kind)


def test_routing_one_arn_imports_only_its_plugin() -> None:
    """GIVEN a fresh interpreter WHEN an RDS instance ARN is routed THEN no other plugin module is
    imported (a handler's cold start pays for its own type only)."""
    code = (
        "import sys; from lifeboat.plugins import plugin_class_for;"
        "from lifeboat.domain.arn import ResourceRef;"
        f"plugin_class_for(ResourceRef.parse({SAMPLE_ARNS['rds_instance']!r}));"
        "print(sorted(m for m in sys.modules if m.startswith('lifeboat.plugins.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == str(
        [
            "lifeboat.plugins.base",
            "lifeboat.plugins.rds",
            "lifeboat.plugins.rds.instance",
            "lifeboat.plugins.rds.permissions",
            "lifeboat.plugins.rds.snapshots",
        ]
    )


def test_every_plugin_has_a_sample_arn_here() -> None:
    """GIVEN the registry THEN each type's ARN routing is covered by the test above."""
    assert set(SAMPLE_ARNS) == set(REGISTRY)


def test_an_arn_of_an_unknown_type_names_the_supported_types() -> None:
    """GIVEN an S3 bucket ARN WHEN a plugin is looked up THEN UnsupportedOperation lists the types."""
    with pytest.raises(UnsupportedOperation, match="rds_cluster"):
        plugin_class_for(ResourceRef.parse("arn:aws:s3:us-east-1:123456789012:bucket/data"))


def test_an_unsupported_operation_raises_its_declared_reason() -> None:
    """GIVEN a type that declares copies unsupported WHEN a copy is asked for THEN the error
    names the type, the operation and the reason, and nothing is attempted."""

    class NoCopies(RdsInstancePlugin):
        resource_type = "no_copies"
        unsupported: ClassVar[Mapping[PluginOperation, str]] = {
            PluginOperation.COPY: "this type has no cross-region copy in AWS"
        }

        def _copy(self, *args: Any, **kwargs: Any) -> None:
            self._unsupported(PluginOperation.COPY)

    def no_client(service: str, region: str) -> Any:
        raise AssertionError(f"no AWS call expected, got {service} in {region}")

    plugin = NoCopies(no_client)
    ref = ResourceRef.parse(SAMPLE_ARNS["rds_instance"])

    with pytest.raises(UnsupportedOperation, match=r"no_copies does not support copy_recovery_point: this"):
        plugin.copy_recovery_point(ref, "lb-x", "us-west-2", None)
