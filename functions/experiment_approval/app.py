"""Critical experiment: keep the task token on its operation and ask an operator to approve."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.experiments import StepInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import experiments
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    experiments.await_approval(parse(StepInput, event), deps_from_env())
    return {}
