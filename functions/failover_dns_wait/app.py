"""Wait until Route 53 serves the failover's DNS changes everywhere (INSYNC)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import DnsResult
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = failover.dns_in_sync(parse(DnsResult, event), deps_from_env())
    return result.model_dump(mode="json", by_alias=True)
