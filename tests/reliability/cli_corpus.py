"""Bad arguments for every CLI command (issue 12): what each is, and the field its one line names.

Each case is (command words, options, what the line must name). The commands that run locally
or against a stack are tried both ways (``--local``, and ``--stack``/``--region`` of a stack),
except cases about the stack options themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple
from unittest import mock

import botocore.client
from lifeboat.cli import local_mode
from lifeboat.command import app
from lifeboat.domain.health import HealthReport
from typer.testing import CliRunner

VALID_ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
LONG = "a" * 5000


class BadArguments(NamedTuple):
    command: tuple[str, ...]
    options: tuple[str, ...]
    names: str  # the field or option the refusal's one line must name

    @property
    def id(self) -> str:
        return " ".join((*self.command, *self.options))[:70]


# Commands that take --local, --stack and --region.
TWO_WAYS = frozenset(
    {
        ("backup", "run"),
        ("cleanup",),
        ("health",),
        ("restore",),
        ("drill",),
        ("failover",),
        ("experiment", "run"),
    }
)
DEPLOYED = ("--stack", "lifeboat-test", "--region", "us-east-1")

CASES = (
    # backup run
    BadArguments(("backup", "run"), ("--tier", "fortnightly"), "--tier"),
    BadArguments(("backup", "run"), ("--tier",), "--tier"),
    BadArguments(("backup", "run"), ("--resource", "not-an-arn"), "resources.0"),
    BadArguments(("backup", "run"), ("--resource", "arn:aws:rds:us-east-1:123:db"), "resources.0"),
    BadArguments(("backup", "run"), ("--resource", f"{VALID_ARN}{LONG}"), "resources.0"),
    BadArguments(("backup", "run"), ("--resource", "arn:aws:rds:../..:123456789012:db:x"), "resources.0"),
    BadArguments(("backup", "run"), ("--bogus",), "--bogus"),
    BadArguments(("backup", "reset"), ("--resource", "not-an-arn"), "resources.0"),
    BadArguments(("backup", "reset"), (), "--resource"),
    # cleanup
    BadArguments(("cleanup",), ("--dry-run", "--max-deletions", "-5"), "max_deletions"),
    BadArguments(("cleanup",), ("--max-deletions", "ten"), "--max-deletions"),
    BadArguments(("cleanup",), ("--resource", "orders-db"), "resources.0"),
    BadArguments(
        ("cleanup",), ("--resource", "arn:aws:rds:us-east-1:123456789012:db:x; rm -rf /"), "resources.0"
    ),
    # health
    BadArguments(("health",), ("--resource", "../.."), "resource_arns.0"),
    BadArguments(
        ("health",), ("--resource", "arn:aws:rds:us-east-9:12345:db:x' OR '1'='1"), "resource_arns.0"
    ),
    # restore
    BadArguments(("restore",), ("--resource", "not-an-arn"), "resourceArn"),
    BadArguments(("restore",), ("--resource", VALID_ARN, "--target-id", "bad_id!"), "targetIdentifier"),
    BadArguments(
        ("restore",), ("--resource", VALID_ARN, "--target-id", "x'; DROP TABLE t;--"), "targetIdentifier"
    ),
    BadArguments(("restore",), ("--resource", VALID_ARN, "--target-id", LONG), "targetIdentifier"),
    BadArguments(("restore",), ("--resource", VALID_ARN, "--target-region", "../.."), "targetRegion"),
    BadArguments(("restore",), ("--resource", VALID_ARN, "--point-in-time", "yesterday"), "--point-in-time"),
    BadArguments(
        ("restore",),
        ("--resource", VALID_ARN, "--recovery-point", "x", "--point-in-time", "2026-11-22T03:00:00"),
        "recoveryPointId or pointInTime",
    ),
    # drill
    BadArguments(("drill",), ("--resource", "not-an-arn"), "resources.0"),
    BadArguments(("drill",), ("--resource", "arn:aws:rds:us-east-1:123:db"), "resources.0"),
    BadArguments(("drill", "stop"), ("--region", "us-east-1/../.."), "--region"),
    BadArguments(("drill", "stop"), ("--stack", "x; rm -rf /"), "--stack"),
    # failover
    BadArguments(("failover",), ("--dry-run",), "--to"),
    BadArguments(("failover",), ("--to", "us-west-9/../.."), "targetRegion"),
    BadArguments(("failover",), ("--to", "us-west-2", "--plan", ""), "plan"),
    BadArguments(("failover",), ("--to", "us-west-2", "--allow-data-loss", "yes"), "yes"),
    # experiment
    BadArguments(("experiment", "run"), (), "name"),
    BadArguments(("experiment", "run"), (LONG,), "experiment"),
    BadArguments(("experiment", "approve"), (), "operation_id"),
    BadArguments(("experiment", "stop"), (), "--all"),
    BadArguments(("experiment", "stop"), ("--all", "--stack", "x; rm -rf /"), "--stack"),
    # demo and the root command
    BadArguments(("demo",), ("--time-scale", "-1"), "--time-scale"),
    BadArguments(("demo",), ("--time-scale", "fast"), "--time-scale"),
    BadArguments(("nonsense",), (), "nonsense"),
    # the deployed stack named
    BadArguments(("health",), ("--stack", "x; rm -rf /"), "--stack"),
    BadArguments(("backup", "run"), ("--region", "../.."), "--region"),
    BadArguments(("cleanup",), ("--dry-run", "--stack", LONG), "--stack"),
    BadArguments(("restore",), ("--resource", VALID_ARN, "--region", "us-east-9 "), "--region"),
)


def invocations() -> list[tuple[str, list[str], str]]:
    """(test id, arguments, what the line names) for every case, each way it can run."""
    runs: list[tuple[str, list[str], str]] = []
    for case in CASES:
        about_the_stack = "--stack" in case.options or "--region" in case.options
        if case.command in TWO_WAYS and not about_the_stack:
            ways = [("local", ("--local",)), ("stack", DEPLOYED)]
        else:
            ways = [("", ())]
        for way, extra in ways:
            runs.append((f"{case.id} {way}".strip(), [*case.command, *extra, *case.options], case.names))
    return runs


class Recorder:
    """A local mode that records every call: a refused command must reach none of it."""

    def __init__(self, report: HealthReport | None = None) -> None:
        self.calls: list[str] = []
        self.report = report

    def __getattr__(self, name: str) -> Any:
        def record(*_: Any) -> Any:
            self.calls.append(name)
            return self.report if name == "health" else 0

        return record


@contextmanager
def local_mode_replaced(mode: Any) -> Iterator[Any]:
    """``--local`` runs on ``mode`` inside the block."""
    registered = local_mode._registered[0]
    local_mode.register(mode)
    try:
        yield mode
    finally:
        local_mode.register(registered)


class CliRun(NamedTuple):
    exit_code: int
    lines: list[str]
    aws_calls: list[str]
    local_calls: list[str]

    @property
    def traceback(self) -> bool:
        return any("Traceback" in line for line in self.lines)


def run_guarded(arguments: list[str]) -> CliRun:
    """Run the CLI with every AWS API call (any session) recorded and refused, not sent, and
    ``--local`` on a recorder."""
    aws_calls: list[str] = []

    def refuse(client: Any, operation: str, params: dict[str, Any]) -> Any:
        aws_calls.append(operation)
        raise AssertionError(f"AWS call {operation} during a bad-argument run")

    with (
        mock.patch.object(botocore.client.BaseClient, "_make_api_call", refuse),
        local_mode_replaced(Recorder()) as recorder,
    ):
        result = CliRunner().invoke(app, arguments)
    lines = [line for line in result.output.splitlines() if line.strip()]
    return CliRun(result.exit_code, lines, aws_calls, recorder.calls)
