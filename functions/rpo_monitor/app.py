"""Scheduled RPO monitor: live RPO per protected resource and region -> metrics + health snapshot."""

from __future__ import annotations

from typing import Any

from lifeboat.handler import lambda_handler, parse
from lifeboat.service import health
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(health.HealthRequest, event)
    return health.check_health(request, deps_from_env()).model_dump(mode="json", by_alias=True)
