"""Structured logs and EMF metrics (Powertools).

No Tracer: Lambda active tracing needs no SDK, and importing the X-Ray SDK more than doubled a
handler's cold import here.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="lifeboat")
metrics = Metrics(namespace="Lifeboat", service="lifeboat")
# A step that raises ResourceNotReady to be retried (a wait by back-off) has nothing to count;
# Powertools would log a warning for every such poll.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@contextmanager
def send_logs_to(path: Path) -> Iterator[None]:
    """Write the structured logs to a file for a while (local mode keeps the terminal clean)."""
    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    with path.open("a") as stream:
        previous = handler.setStream(stream)
        try:
            yield
        finally:
            if previous is not None:
                handler.setStream(previous)


__all__ = ["MetricUnit", "logger", "metrics", "send_logs_to"]
