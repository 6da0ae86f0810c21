"""Point the failover plan's DNS records at the new primaries (one batch per hosted zone)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import SwitchDnsRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return failover.switch_dns(parse(SwitchDnsRequest, event), deps_from_env()).model_dump(
        mode="json", by_alias=True
    )
