"""Bad CLI arguments are refused in one line naming the field, before anything runs (issue 12).

Before: a malformed ``drill --resource`` and a negative ``cleanup --max-deletions`` ended in a
pydantic traceback, and ``restore`` printed pydantic's multi-line report.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from lifeboat.command import app
from typer.testing import CliRunner


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (["drill", "--resource", "not-an-arn"], "resources.0"),
        (["drill", "--resource", "arn:aws:rds:us-east-1:123:db"], "resources.0"),
        (["cleanup", "--dry-run", "--max-deletions", "-5"], "max_deletions"),
        (["cleanup", "--resource", "orders-db"], "resources.0"),
        (["restore", "--resource", "not-an-arn"], "resourceArn"),
        (
            ["restore", "--resource", "arn:aws:rds:us-east-1:123456789012:db:x", "--target-id", "bad_id!"],
            "targetIdentifier",
        ),
    ],
)
def test_bad_arguments_are_one_line_naming_the_field_and_call_nothing(
    arguments: list[str], field: str
) -> None:
    # GIVEN a process that counts AWS calls
    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = boto3._get_default_session().events
    events.register("before-call", count)
    try:
        # WHEN a command gets a bad argument (against a deployed stack: nothing local to seed)
        result = CliRunner().invoke(app, [*arguments, "--stack", "lifeboat-test", "--region", "us-east-1"])
    finally:
        events.unregister("before-call", count)
    # THEN it exits 2 with one line that names the field, no traceback, and no AWS call was made
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and field in lines[0], result.output
    assert "Traceback" not in result.output
    assert calls == []
