"""A backup run ended before its copies did (stopped, timed out, failed): hand their copy
slots back at once instead of when their leases end."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import BackupRunEnded
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import run_stopped
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    released = run_stopped.on_run_ended(parse(BackupRunEnded, event), deps_from_env())
    return released.model_dump(mode="json", by_alias=True)
