"""Resuming a Step Functions task that waits for its token (``.waitForTaskToken``)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated

__all__ = ["send_success"]

# The task no longer waits: its wait timed out (it runs again with a new token), its execution
# ended or was stopped.
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def send_success(sfn: Any, token: str, output: dict[str, Any], what: str) -> bool:
    """Resume the task with ``output``; False when it no longer waits for this token."""
    try:
        with translated({}, f"resuming {what}"):
            sfn.send_task_success(taskToken=token, output=json.dumps(output, separators=(",", ":")))
    except ClientError as exc:
        if error_code(exc) not in _GONE:
            raise
        return False
    return True
