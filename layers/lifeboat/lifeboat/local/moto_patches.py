"""The few places local mode adjusts moto, each for a stated reason.

- Waits and Retry intervals sleep in real time in moto: scale them so a run with hour-long
  back-off budgets finishes in seconds (the ASL itself is unchanged).
- moto builds a new boto3 client for every Lambda task: cache them (about 3x faster Maps).
- moto lacks RDS ``DescribeAccountAttributes``: answer it from moto's own snapshot store, so
  the preflight's quota check runs the same code as on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock


class _ScaledTime:
    def __init__(self, real: Any, scale: float) -> None:
        self._real, self._scale = real, scale

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _describe_account_attributes(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backend
    manual = [s for s in backend.database_snapshots.values() if s.snapshot_type == "manual"]
    return ActionResult(
        {
            "AccountQuotas": [
                {"AccountQuotaName": "ManualSnapshots", "Used": len(manual), "Max": backend.SNAPSHOT_QUOTA}
            ]
        }
    )


@contextmanager
def patched_moto(time_scale: float) -> Iterator[None]:
    import time

    from moto.rds.responses import RDSResponse
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    original_wait = WaitFunction._wait_interval
    original_client_for = lambda_eval_utils.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        original_wait(self, env, wait_seconds * time_scale)

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original_client_for(region, service, state_credentials)
            return clients[(region, service)]

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledTime(time, time_scale)))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", scaled_wait))
        stack.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", cached_client_for))
        if not hasattr(RDSResponse, "describe_account_attributes"):
            stack.enter_context(
                mock.patch.object(
                    RDSResponse, "describe_account_attributes", _describe_account_attributes, create=True
                )
            )
        yield
