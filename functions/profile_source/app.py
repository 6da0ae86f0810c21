"""Profile the source database at backup time: the baseline its restores are checked against."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import StepRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import profile
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return profile.profile_source(parse(StepRequest, event), deps_from_env()).model_dump(
        mode="json", by_alias=True
    )
