"""A snapshot or copy finished (an RDS or EBS event): resume the backup task waiting for it."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.completion import CompletionEvent
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import completion
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"resumed": completion.on_event(parse(CompletionEvent, event), deps_from_env())}
