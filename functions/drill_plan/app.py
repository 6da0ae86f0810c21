"""Choose the resources of a drill run (asked for, or those whose policy enables drills)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import DrillPlanInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import drill
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return drill.plan_run(parse(DrillPlanInput, event), deps_from_env()).model_dump(
        mode="json", by_alias=True
    )
