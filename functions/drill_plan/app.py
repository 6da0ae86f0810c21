"""Choose the resources of a drill run (asked for, or those whose policy enables drills) and write
them to the stack's bucket, where the drill Map reads them."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import DrillPlanInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import drill, drill_run
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request, deps = parse(DrillPlanInput, event), deps_from_env()
    plan = drill.plan_run(request, deps)
    return drill_run.publish(plan, deps, request.execution_name).model_dump(mode="json", by_alias=True)
