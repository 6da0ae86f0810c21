"""Failover experiment: pre-checks and the EXPERIMENT operation (nothing injected here)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.experiments import PrepareInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import experiments
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = experiments.prepare(parse(PrepareInput, event), deps_from_env())
    return run.model_dump(mode="json", by_alias=True)
