"""Start restoring into the planned new resource (never over an existing one)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import RestoreStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import restore
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return restore.start(parse(RestoreStep, event), deps_from_env()).model_dump(mode="json", by_alias=True)
