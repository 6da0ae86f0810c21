"""Admit a DR copy through the copy quota gate: its task token is sent now, or when a slot frees."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import SlotRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import copy_slots
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(SlotRequest, event)
    return copy_slots.admit(request, deps_from_env()).model_dump(mode="json", by_alias=True)
