"""Glue shared by every Lambda handler: parse input into a model, log, flush metrics."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lifeboat.errors import InvalidInput
from lifeboat.observability import logger, metrics

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def parse(model: type[Model], event: object) -> Model:
    """Validate an event; bad input becomes InvalidInput (no AWS call has been made yet)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<event>'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInput(f"invalid {model.__name__}: {problems}") from None


def lambda_handler(step: Handler) -> Handler:
    """Wrap a handler with Powertools logging context and metrics flushing."""

    @functools.wraps(step)
    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def wrapper(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if isinstance(event, dict) and isinstance(event.get("runId"), str):
            logger.set_correlation_id(event["runId"])
        return step(event, context)

    return wrapper
