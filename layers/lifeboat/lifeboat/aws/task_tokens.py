"""Resuming a Step Functions task that waits for its token (``.waitForTaskToken``)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated

__all__ = ["TIMED_OUT", "send_success"]

# The task no longer waits for this token: its wait timed out (TaskTimedOut: its state runs again
# at once with a new token), or its execution ended or was stopped.
TIMED_OUT = "TaskTimedOut"
_GONE = frozenset({TIMED_OUT, "TaskDoesNotExist", "InvalidToken"})


def send_success(sfn: Any, token: str, output: dict[str, Any], what: str) -> str | None:
    """Resume the task with ``output``: None when sent, else why the task no longer waits for
    this token (``TIMED_OUT``, or another of AWS's codes)."""
    try:
        with translated({}, f"resuming {what}"):
            sfn.send_task_success(taskToken=token, output=json.dumps(output, separators=(",", ":")))
    except ClientError as exc:
        code = error_code(exc)
        if code not in _GONE:
            raise
        return code
    return None
