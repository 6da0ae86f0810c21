"""Static tests of the SAM template (template.yaml) and the files it points at.

They read the real files of the repository; nothing is deployed and no AWS API
is called.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
STATEMACHINES_DIR = PROJECT_ROOT / "statemachines"

# Verbs (the part of an IAM action after "service:") that only read.
READ_ONLY_VERB_PREFIXES = ("Describe", "List", "Get", "BatchGet")
READ_ONLY_VERBS = frozenset({"Query", "Scan"})

# Non-read-only actions that may be granted on Resource '*', with the reason.
ALLOWED_ON_ANY_RESOURCE: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray telemetry: no resource-level permissions exist",
    "xray:PutTelemetryRecords": "X-Ray telemetry: no resource-level permissions exist",
    "logs:CreateLogDelivery": "Step Functions vended log delivery: '*' only",
    "logs:UpdateLogDelivery": "Step Functions vended log delivery: '*' only",
    "logs:DeleteLogDelivery": "Step Functions vended log delivery: '*' only",
    "logs:PutResourcePolicy": "Step Functions vended log delivery: '*' only",
    "states:SendTaskSuccess": "a task token names no resource: no resource-level permission exists",
}

# AWS managed policies that SAM/the template may attach (none on purpose).
ALLOWED_MANAGED_POLICIES: dict[str, str] = {}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short-form tags into long form."""


def _construct_cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    key = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def _load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return _load_template()


def _resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == resource_type
    }


def _function_properties(template: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    """A function's properties with Globals.Function merged underneath."""
    merged = dict(template.get("Globals", {}).get("Function", {}))
    merged.update(resource.get("Properties", {}))
    return merged


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _sam_policy_templates() -> dict[str, Any]:
    from importlib import resources

    text = (
        resources.files("samtranslator")
        .joinpath("policy_templates_data/policy_templates.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)["Templates"]


def _iam_statements(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield (where, statement) for every identity-policy statement in the template.

    Covers SAM function and state machine `Policies` (inline documents and SAM
    policy templates, expanded from samtranslator's own definitions) and IAM
    roles/policies. Resource-based policies (KMS key policy, SQS queue policy)
    are not identity policies: there Resource '*' means "this resource".
    Managed policies are yielded as a pseudo statement so they can be flagged.
    """
    sam_templates: dict[str, Any] | None = None
    for name, resource in template["Resources"].items():
        rtype = resource.get("Type")
        props = resource.get("Properties", {})
        if rtype in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for index, policy in enumerate(_as_list(props.get("Policies"))):
                where = f"{name}.Policies[{index}]"
                if isinstance(policy, str):
                    yield where, {"ManagedPolicy": policy}
                elif isinstance(policy, dict) and "Statement" in policy:
                    for statement in _as_list(policy["Statement"]):
                        yield where, statement
                elif isinstance(policy, dict) and len(policy) == 1:
                    (template_name,) = policy
                    if sam_templates is None:
                        sam_templates = _sam_policy_templates()
                    if template_name not in sam_templates:
                        yield where, {"UnknownPolicy": template_name}
                        continue
                    definition = sam_templates[template_name]["Definition"]
                    for statement in _as_list(definition["Statement"]):
                        yield f"{where}({template_name})", statement
                else:
                    yield where, {"UnknownPolicy": policy}
        elif rtype == "AWS::IAM::Role":
            for arn in _as_list(props.get("ManagedPolicyArns")):
                yield f"{name}.ManagedPolicyArns", {"ManagedPolicy": arn}
            for policy in _as_list(props.get("Policies")):
                where = f"{name}.Policies[{policy.get('PolicyName')}]"
                for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                    yield where, statement
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in _as_list(props["PolicyDocument"]["Statement"]):
                yield name, statement


def _is_read_only(action: str) -> bool:
    _, _, verb = action.partition(":")
    return verb in READ_ONLY_VERBS or verb.startswith(READ_ONLY_VERB_PREFIXES)


# ---------------------------------------------------------------------------
# 1. cfn-lint
# ---------------------------------------------------------------------------
def test_cfn_lint_reports_nothing() -> None:
    """GIVEN template.yaml WHEN cfn-lint (Python API) lints it THEN no match is reported."""
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=["us-east-1"]))

    assert matches == [], "cfn-lint findings:\n" + "\n".join(str(m) for m in matches)


def test_sam_validate_lint() -> None:
    """GIVEN the SAM CLI WHEN `sam validate --lint` runs on template.yaml THEN it succeeds."""
    sam = shutil.which("sam")
    venv_sam = Path(sys.prefix) / "bin" / "sam"
    if sam is None and venv_sam.exists():
        sam = str(venv_sam)
    if sam is None:
        pytest.skip("SAM CLI not installed (neither `sam` on PATH nor in this venv)")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    started = time.monotonic()
    result = subprocess.run(
        [sam, "validate", "--lint", "--template", str(TEMPLATE_PATH), "--region", "us-east-1"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 0, (
        f"sam validate --lint failed after {elapsed:.1f}s:\n{result.stdout}\n{result.stderr}"
    )


# ---------------------------------------------------------------------------
# 2. State machine definitions <-> DefinitionSubstitutions
# ---------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


def _state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _resources_of_type(template, "AWS::Serverless::StateMachine")


def test_every_state_machine_has_a_local_definition(template: dict[str, Any]) -> None:
    """GIVEN each SAM state machine WHEN its DefinitionUri is resolved THEN the ASL file exists
    and, with every substitution replaced, is valid JSON."""
    machines = _state_machines(template)
    assert machines, "template defines no AWS::Serverless::StateMachine"
    for name, resource in machines.items():
        props = resource["Properties"]
        definition_uri = props.get("DefinitionUri")
        assert isinstance(definition_uri, str), f"{name}: DefinitionUri must be a local path"
        asl_path = PROJECT_ROOT / definition_uri
        assert asl_path.is_file(), f"{name}: {definition_uri} does not exist"
        text = asl_path.read_text(encoding="utf-8")
        rendered = _PLACEHOLDER.sub(
            lambda m: f"arn:aws:lambda:us-east-1:123456789012:function:{m.group(1)}", text
        )
        definition = json.loads(rendered)
        assert "StartAt" in definition, f"{definition_uri} is not ASL (no StartAt)"
        assert "States" in definition, f"{definition_uri} is not ASL (no States)"


def test_definition_placeholders_match_substitutions(template: dict[str, Any]) -> None:
    """GIVEN every statemachines/*.asl.json WHEN its ${Placeholders} are collected THEN each is a
    DefinitionSubstitutions key of the state machine using that file, and every key is used."""
    machines_by_file = {
        (PROJECT_ROOT / resource["Properties"]["DefinitionUri"]).resolve(): (name, resource)
        for name, resource in _state_machines(template).items()
    }
    asl_files = sorted(STATEMACHINES_DIR.glob("*.asl.json"))
    expected = sorted(path.relative_to(PROJECT_ROOT) for path in machines_by_file)
    assert asl_files, f"no statemachines/*.asl.json found (template expects {expected})"

    problems: list[str] = []
    for asl_path in asl_files:
        owner = machines_by_file.get(asl_path.resolve())
        if owner is None:
            problems.append(f"{asl_path.name}: not the DefinitionUri of any state machine")
            continue
        name, resource = owner
        used = set(_PLACEHOLDER.findall(asl_path.read_text(encoding="utf-8")))
        declared = set(resource["Properties"].get("DefinitionSubstitutions", {}))
        if missing := sorted(used - declared):
            problems.append(f"{asl_path.name}: placeholders without a substitution in {name}: {missing}")
        if unused := sorted(declared - used):
            problems.append(f"{asl_path.name}: substitutions of {name} never used: {unused}")

    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# 3. Handlers exist
# ---------------------------------------------------------------------------
def test_every_function_handler_file_defines_its_handler(template: dict[str, Any]) -> None:
    """GIVEN each AWS::Serverless::Function WHEN CodeUri + Handler are resolved THEN the module
    file exists and defines the handler function (checked as text, not imported)."""
    functions = _resources_of_type(template, "AWS::Serverless::Function")
    assert functions, "template defines no AWS::Serverless::Function"

    problems: list[str] = []
    for name, resource in functions.items():
        props = _function_properties(template, resource)
        module, _, func = props["Handler"].rpartition(".")
        source = PROJECT_ROOT / props["CodeUri"] / (module.replace(".", "/") + ".py")
        if not source.is_file():
            problems.append(f"{name}: {source.relative_to(PROJECT_ROOT)} does not exist")
            continue
        pattern = rf"^(async\s+)?def\s+{re.escape(func)}\s*\("
        if not re.search(pattern, source.read_text(encoding="utf-8"), re.MULTILINE):
            problems.append(f"{name}: {source.relative_to(PROJECT_ROOT)} has no `def {func}(`")

    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# 4. Architecture and runtime
# ---------------------------------------------------------------------------
def test_layer_is_built_for_arm64_python311(template: dict[str, Any]) -> None:
    """GIVEN the Lifeboat layer WHEN its properties and build metadata are read THEN it is
    declared and built for arm64 / python3.11 (else SAM packs x86_64 pydantic_core wheels)."""
    layer = template["Resources"]["LifeboatLayer"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Metadata"]["BuildMethod"] == "python3.11"


def test_layer_requirements_pin_runtime_libraries_without_boto3() -> None:
    """GIVEN layers/lifeboat/requirements.txt WHEN read THEN it names pydantic v2 and powertools
    v3 and not boto3/botocore (provided by the Lambda runtime)."""
    lines = [
        line.strip()
        for line in (PROJECT_ROOT / "layers/lifeboat/requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    names = {re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() for line in lines}

    assert {"pydantic", "aws-lambda-powertools"} <= names
    assert not names & {"boto3", "botocore"}


def test_every_function_is_arm64_python311_with_the_layer(template: dict[str, Any]) -> None:
    """GIVEN each function merged with Globals THEN it runs python3.11 on arm64 with the layer."""
    for name, resource in _resources_of_type(template, "AWS::Serverless::Function").items():
        props = _function_properties(template, resource)
        assert props["Runtime"] == "python3.11", name
        assert props["Architectures"] == ["arm64"], name
        assert {"Ref": "LifeboatLayer"} in props["Layers"], name


# ---------------------------------------------------------------------------
# 5. Least privilege
# ---------------------------------------------------------------------------
def test_no_mutating_action_on_any_resource(template: dict[str, Any]) -> None:
    """GIVEN every identity-policy statement in the template WHEN it allows Resource '*' THEN
    each action is read-only or explicitly allow-listed; no managed policy, NotAction or
    NotResource widens it."""
    statements = list(_iam_statements(template))
    assert statements, "no IAM statements found: the collector is broken"

    problems: list[str] = []
    for where, statement in statements:
        if "ManagedPolicy" in statement:
            if str(statement["ManagedPolicy"]) not in ALLOWED_MANAGED_POLICIES:
                problems.append(f"{where}: managed policy {statement['ManagedPolicy']!r}")
            continue
        if "UnknownPolicy" in statement:
            problems.append(f"{where}: unrecognised policy entry {statement['UnknownPolicy']!r}")
            continue
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where}: Allow with NotAction/NotResource")
            continue
        if "*" not in _as_list(statement.get("Resource")):
            continue
        for action in _as_list(statement.get("Action")):
            if not _is_read_only(action) and action not in ALLOWED_ON_ANY_RESOURCE:
                problems.append(f"{where} ({statement.get('Sid', '-')}): {action} on '*'")

    assert not problems, "mutating actions on Resource '*':\n" + "\n".join(problems)


def test_least_privilege_check_catches_a_mutating_wildcard(template: dict[str, Any]) -> None:
    """GIVEN a copy of the template with rds:DeleteDBSnapshot on '*' added to a function
    WHEN the least-privilege check runs THEN it fails (the check is not vacuous)."""
    import copy

    broken = copy.deepcopy(template)
    broken["Resources"]["PlanFunction"]["Properties"]["Policies"].append(
        {"Statement": [{"Effect": "Allow", "Action": "rds:DeleteDBSnapshot", "Resource": "*"}]}
    )

    with pytest.raises(AssertionError, match="rds:DeleteDBSnapshot"):
        test_no_mutating_action_on_any_resource(broken)


# ---------------------------------------------------------------------------
# 6. Stateful resources
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("logical_id", ["StateTable", "StateTableKey"])
def test_stateful_resources_are_retained(template: dict[str, Any], logical_id: str) -> None:
    """GIVEN the state table and its KMS key THEN stack deletion and replacement retain them."""
    resource = template["Resources"][logical_id]

    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_state_table_is_durable_and_encrypted(template: dict[str, Any]) -> None:
    """GIVEN the state table THEN it has TTL on expiresAt, NEW_AND_OLD_IMAGES stream, PITR,
    SSE-KMS with the state key, and a rotating key."""
    table = template["Resources"]["StateTable"]
    props = table["Properties"]

    assert table["Type"] == "AWS::DynamoDB::Table"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "StateTableKey"},
    }
    assert props["KeySchema"] == [{"AttributeName": "operationId", "KeyType": "HASH"}]
    assert {gsi["IndexName"] for gsi in props["GlobalSecondaryIndexes"]} == {
        "byResource",
        "byTypeStatus",
    }
    assert template["Resources"]["StateTableKey"]["Properties"]["EnableKeyRotation"] is True


# ---------------------------------------------------------------------------
# 7. Schedules
# ---------------------------------------------------------------------------
SCHEDULES = {
    "DailyBackupSchedule": "daily",
    "WeeklyBackupSchedule": "weekly",
    "MonthlyBackupSchedule": "monthly",
    "HourlyBackupSchedule": "hourly",
    "Every6hBackupSchedule": "every6h",
}


@pytest.mark.parametrize(("logical_id", "tier"), sorted(SCHEDULES.items()))
def test_schedule_input_template_is_json_naming_its_tier(
    template: dict[str, Any], logical_id: str, tier: str
) -> None:
    """GIVEN a schedule rule WHEN EventBridge fills <time> THEN the input is JSON naming the tier,
    the scheduled time and the trigger, and the target is the backup state machine via a role."""
    (target,) = template["Resources"][logical_id]["Properties"]["Targets"]
    transformer = target["InputTransformer"]

    rendered = transformer["InputTemplate"].replace("<time>", "2026-11-22T03:00:00Z")
    payload = json.loads(rendered)

    assert transformer["InputPathsMap"] == {"time": "$.time"}
    assert payload == {"tier": tier, "scheduledAt": "2026-11-22T03:00:00Z", "trigger": "schedule"}
    assert target["Arn"] == {"Ref": "BackupStateMachine"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ScheduleRole", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}


def test_schedules_follow_the_environment_policy(template: dict[str, Any]) -> None:
    """GIVEN the environment policy (dev backups off by default, weekly/monthly prod only)
    THEN the daily rule is conditional on DailyScheduleEnabled (not dev unless opted in) and
    the weekly/monthly rules are enabled in prod only."""
    rules = template["Resources"]

    assert rules["DailyBackupSchedule"]["Properties"]["State"] == {
        "Fn::If": ["DailyScheduleEnabled", "ENABLED", "DISABLED"]
    }
    for logical_id in ("WeeklyBackupSchedule", "MonthlyBackupSchedule"):
        assert rules[logical_id]["Properties"]["State"] == {"Fn::If": ["IsProd", "ENABLED", "DISABLED"]}
    assert template["Parameters"]["EnableDevSchedules"]["Default"] == "false"


def _cron_fields(rule: dict[str, Any]) -> list[str]:
    expression = rule["Properties"]["ScheduleExpression"]
    assert expression.startswith("cron(") and expression.endswith(")")
    return expression[len("cron(") : -1].split()


def _fires_at(fields: list[str]) -> set[tuple[int, int]]:
    """The (hour, minute) pairs a cron's hour and minute fields name (ranges, steps, lists)."""
    minute, hour = fields[0], fields[1]
    if hour == "*":
        hours = set(range(24))
    elif "/" in hour:
        first, step = hour.split("/")
        hours = set(range(int(first), 24, int(step)))
    else:
        hours = {int(h) for h in hour.split(",")}
    return {(h, int(minute)) for h in hours}


def test_sub_daily_schedules_are_opt_in_and_never_fire_with_another_tier(template: dict[str, Any]) -> None:
    """GIVEN the hourly and every-6-hours schedules
    THEN they are off unless SubDailySchedules names them (and the daily schedule runs there), and
    no sub-daily run starts at the minute of the daily, weekly or monthly run: two tiers never
    snapshot one database at once."""
    rules = template["Resources"]
    assert template["Parameters"]["SubDailySchedules"]["Default"] == "none"
    assert rules["HourlyBackupSchedule"]["Properties"]["State"] == {
        "Fn::If": ["HourlyScheduleEnabled", "ENABLED", "DISABLED"]
    }
    assert rules["Every6hBackupSchedule"]["Properties"]["State"] == {
        "Fn::If": ["Every6hScheduleEnabled", "ENABLED", "DISABLED"]
    }
    for condition in ("HourlyScheduleEnabled", "Every6hScheduleEnabled"):
        assert {"Condition": "DailyScheduleEnabled"} in template["Conditions"][condition]["Fn::And"]

    long_tiers = set().union(
        *(_fires_at(_cron_fields(rules[f"{t}BackupSchedule"])) for t in ("Daily", "Weekly", "Monthly"))
    )
    hourly = _fires_at(_cron_fields(rules["HourlyBackupSchedule"]))
    every6h = _fires_at(_cron_fields(rules["Every6hBackupSchedule"]))
    assert len(hourly) == 24 and len(every6h) == 4
    assert not (hourly & long_tiers) and not (every6h & long_tiers) and not (hourly & every6h)
