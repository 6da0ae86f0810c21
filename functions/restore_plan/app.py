"""Check a restore request (or one drill item), choose its recovery point, open the operation."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import PlanInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import restore
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return restore.plan(parse(PlanInput, event), deps_from_env()).model_dump(mode="json", by_alias=True)
