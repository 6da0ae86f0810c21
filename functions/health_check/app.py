"""Preflight one resource: source available, DR keys usable, snapshot quota headroom."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import ResourceTask
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import backup
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(ResourceTask, event)
    return backup.preflight(request, deps_from_env()).model_dump(mode="json", by_alias=True)
