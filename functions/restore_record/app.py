"""Record a restore or drill outcome with its measured RTO, and word it for people."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.restore import RecordRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import restore
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return restore.record(parse(RecordRequest, event), deps_from_env()).model_dump(mode="json", by_alias=True)
