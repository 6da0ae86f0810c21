"""Close each resource's FAILOVER operation with its RTO and data age; the summary notification."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import FailoverRecordRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = failover.record(parse(FailoverRecordRequest, event), deps_from_env())
    return result.model_dump(mode="json", by_alias=True)
