"""Delete a drill's temporary resource (only that drill's own), or abort a running drill.

``{"plan": ...}`` comes from the drill workflow (ResourceNotReady until the resource is gone);
``{"abort": {"operationId": ...}}`` from ``lifeboat drill stop``; ``{"drillCopy": ...}`` from a
failover experiment's rollback (its temporary replica).
"""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import AbortRequest, DrillCopyTeardown, RestoreStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import drill, drill_copy
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "drillCopy" in event:
        return drill_copy.delete(parse(DrillCopyTeardown, event["drillCopy"]), deps_from_env())
    if isinstance(event, dict) and "abort" in event:
        result = drill.abort(parse(AbortRequest, event["abort"]), deps_from_env())
    else:
        result = drill.teardown(parse(RestoreStep, event), deps_from_env())
    return result.model_dump(mode="json", by_alias=True)
