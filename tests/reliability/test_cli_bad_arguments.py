"""Every CLI command refuses bad arguments, and a missing credential or a wrong stack, in one
line, with exit code 2, before anything runs (issues 12 and 11).

Before: a malformed ``drill --resource`` and a negative ``cleanup --max-deletions`` ended in a
pydantic traceback, ``restore`` printed pydantic's multi-line report, missing credentials printed
~200 lines of traceback and a wrong stack name 60-80, ``health --resource`` of an unprotected
database was green with exit 0, and ``backup run --tier yearly`` said SUCCEEDED and exited 1.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.client
import pytest
import typer.main
from botocore.exceptions import ClientError
from lifeboat.cli.backup import finish_run
from lifeboat.command import app
from lifeboat.domain.health import HealthReport, SkippedHealth
from typer.testing import CliRunner, Result

from .cli_corpus import CASES, VALID_ARN, Recorder, invocations, local_mode_replaced, run_guarded


def lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("arguments", "names"), [(a, n) for _, a, n in invocations()], ids=[i for i, _, _ in invocations()]
)
def test_bad_arguments_are_one_line_naming_the_field_and_run_nothing(
    arguments: list[str], names: str
) -> None:
    # GIVEN a command with a bad argument, WHEN it is run
    run = run_guarded(arguments)
    # THEN it exits 2 with one line that names the field, no traceback, and nothing ran: no AWS
    # call at all, nothing in the emulated account
    assert run.exit_code == 2, run.lines
    assert len(run.lines) == 1 and names in run.lines[0], run.lines
    assert not run.traceback
    assert (run.aws_calls, run.local_calls) == ([], [])


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every runnable command of the CLI, as the words that run it."""
    paths: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            paths |= _command_paths(command, path)
            if command.invoke_without_command:
                paths.add(path)
        else:
            paths.add(path)
    return paths


def test_the_corpus_covers_every_command() -> None:
    # GIVEN the CLI's commands, THEN each has bad arguments in the corpus (40+ runs in all)
    tried = {case.command for case in CASES}
    assert _command_paths(typer.main.get_command(app)) - tried == set()
    assert len(invocations()) >= 40


DEPLOYED_COMMANDS = [
    ["backup", "run"],
    ["cleanup"],
    ["cleanup", "--dry-run"],
    ["health"],
    ["restore", "--resource", VALID_ARN],
    ["drill"],
    ["drill", "stop"],
    ["failover", "--to", "us-west-2"],
    ["backup", "reset", "--resource", VALID_ARN],
    ["experiment", "run", "orders-reboot"],
    ["experiment", "approve", "experiment:orders-reboot:20261207000000-abcdef"],
    ["experiment", "stop", "--all"],
]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("command", DEPLOYED_COMMANDS, ids=" ".join)
def test_without_credentials_every_command_says_so_in_one_line(
    command: list[str], no_credentials: None
) -> None:
    # GIVEN no AWS credentials anywhere, WHEN a command is run against a stack
    result = CliRunner().invoke(app, [*command, "--region", "us-east-1"])
    # THEN one line says what is missing and what to do, exit 2 (was ~200 lines of traceback)
    assert result.exit_code == 2, result.output
    [line] = lines(result)
    assert "no usable AWS credentials" in line and "--local" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", DEPLOYED_COMMANDS, ids=" ".join)
def test_a_stack_that_is_not_deployed_is_one_line_and_changes_nothing(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an account without the stack named (CloudFormation's own answer), every call counted
    calls: list[str] = []

    def no_such_stack(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        error = {
            "Code": "ValidationError",
            "Message": f"Stack with id {params.get('StackName')} does not exist",
        }
        raise ClientError({"Error": error}, operation)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", no_such_stack)
    # WHEN a command names it
    result = CliRunner().invoke(app, [*command, "--stack", "lifeboat-nope", "--region", "eu-west-1"])
    # THEN one line names the stack and the region, exit 2 (was 60-80 lines of traceback), and
    # nothing but the stack's description was asked for
    assert result.exit_code == 2, result.output
    [line] = lines(result)
    assert "no Lifeboat stack 'lifeboat-nope' in eu-west-1" in line
    assert calls == ["DescribeStacks"]


def test_debug_shows_the_traceback_instead(no_credentials: None) -> None:
    result = CliRunner().invoke(app, ["--debug", "health", "--region", "us-east-1"])
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "NoCredentialsError"


def test_health_of_a_resource_that_is_not_protected_is_not_green() -> None:
    # GIVEN the monitor's answer for an untagged database: not monitored
    asked = "arn:aws:rds:us-east-1:123456789012:db:untagged-db"
    report = HealthReport(
        checked_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        skipped=[SkippedHealth(resource_arn=asked, reason="not protected by any Lifeboat policy")],
    )
    # WHEN health is asked about it
    with local_mode_replaced(Recorder(report)):
        result = CliRunner().invoke(app, ["health", "--local", "--resource", asked])
    # THEN the verdict is red and says why, and the exit code is 1 (was "all 0 monitored
    # resources within their RPO target", exit 0)
    assert result.exit_code == 1, result.output
    assert "not monitored" in result.output and "within their RPO target" not in result.output


class _PlanFile:
    """The stack's bucket as the CLI reads a run's plan from it."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self._body = json.dumps(plan).encode()

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self._body)}


def test_a_run_that_backed_up_nothing_is_not_called_a_success(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a finished run whose plan had every resource skipped
    plan = {"runId": "yearly-20261122T0300Z", "tier": "yearly", "scheduledAt": "2026-11-22T03:00:00Z"}
    skipped = [{"arn": VALID_ARN, "reason": "policy 'prod' has no yearly tier"}]
    location = {"bucket": "lifeboat-dev-123456789012-us-east-1", "key": "backup/x/plan.json"}
    summary = {"resourceCount": 0, "skippedCount": 1, "skipped": skipped, "items": location, "plan": location}
    described = {"status": "SUCCEEDED", "output": json.dumps(plan | summary)}
    bucket = _PlanFile(plan | {"resources": [], "skipped": skipped})
    # WHEN its verdict is printed
    code = finish_run(described, store=None, s3=bucket, elapsed=1.0)
    # THEN the verdict and the exit code agree: nothing was backed up, exit 1 (was "every
    # protected resource SUCCEEDED" in green, and exit 1)
    out = capsys.readouterr().out
    assert code == 1
    assert "nothing was backed up" in out and "every protected resource SUCCEEDED" not in out
