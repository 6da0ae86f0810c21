"""Faults as AWS produces them, injected between botocore and the emulated AWS, reproducibly.

The injector wraps moto's request handler, the point where a real request would leave for the
network, so botocore's own retries (adaptive mode, as the product configures) see every fault
as they would see AWS's:

- **errors**: a share of calls is answered with throttling (``Throttling``,
  ``ThrottlingException``, ``RequestLimitExceeded``, ``SlowDown``) or a 5xx
  (``InternalFailure``, ``ServiceUnavailable``) in the service's own wire format; moto never
  sees the request;
- **copy quota**: a share of cross-region copies is refused with ``SnapshotQuotaExceeded`` (the
  workflow's CopyToRegion retries it; botocore does not);
- **lost responses**: a share of mutating calls reaches moto and succeeds, then the response is
  lost (``ReadTimeoutError``): botocore retries the call, which already happened;
- **Lambda timeouts**: a share of task invocations does its work, then Lambda reports
  ``Sandbox.Timedout`` and Step Functions retries the task;
- **region outage**: every call to a down region's endpoints fails, as an SDK sees an
  unreachable region (``EndpointConnectionError``) or as a ``503 ServiceUnavailable``.

Every decision comes from one seeded ``random.Random``, so a seed replays the same faults for
the same sequence of calls. Faults apply only while ``active()``: set-up and the checks after a
run see a healthy cloud. Retry sleeps are scaled like the emulator's waits.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from lifeboat.domain.arn import REGION_PATTERN

__all__ = ["FaultInjector", "FaultPlan"]

# Services Lifeboat's library calls; the emulator's own (Step Functions, Lambda, logs) are left
# alone, and CloudWatch (a binary protocol) too.
_PROTOCOLS = {
    "rds": "query",
    "elasticache": "query",
    "sts": "query",
    "sns": "query",
    "ec2": "ec2",
    "dynamodb": "json",
    "kms": "json",
    "ssm": "json",
    "resource-groups-tagging-api": "json",
    "s3": "rest-xml",
}
_THROTTLE_CODES = {
    "query": "Throttling",
    "ec2": "RequestLimitExceeded",
    "json": "ThrottlingException",
    "rest-xml": "SlowDown",
}
_REGION = re.compile(REGION_PATTERN)
_SERVER_ERRORS = (("InternalFailure", 500), ("ServiceUnavailable", 503))
COPY_CALLS = frozenset({"CopyDBSnapshot", "CopyDBClusterSnapshot"})
# Calls that create, copy, restore or delete a recovery point or a restored resource.
MUTATING_CALLS = frozenset(
    {
        "CreateDBSnapshot",
        "CreateDBClusterSnapshot",
        "CopyDBSnapshot",
        "CopyDBClusterSnapshot",
        "DeleteDBSnapshot",
        "DeleteDBClusterSnapshot",
        "RestoreDBInstanceFromDBSnapshot",
        "RestoreDBClusterFromSnapshot",
        "CreateSnapshot",
        "CopySnapshot",
        "DeleteSnapshot",
        "CreateBackup",
        "DeleteBackup",
        "ExportTableToPointInTime",
        "RestoreTableFromBackup",
    }
)
INJECTED_CODES = frozenset(
    {*_THROTTLE_CODES.values(), *(code for code, _ in _SERVER_ERRORS), "SnapshotQuotaExceeded"}
)


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    error_rate: float = 0.10
    copy_quota_rate: float = 0.0
    lost_response_rate: float = 0.0
    # Lambda tasks that time out after doing their work (Step Functions retries them).
    lambda_timeout_rate: float = 0.0
    # Botocore's retry back-off and adaptive rate limiting, as a share of real time.
    sleep_scale: float = 0.01
    # Regions whose every endpoint fails: "unreachable" (connection refused at once), "503", or
    # "timeout" (each connection attempt hangs ``connect_seconds``, real time, then times out).
    down_regions: frozenset[str] = frozenset()
    outage: str = "unreachable"
    connect_seconds: float = 3.0


class FaultInjector:
    """Counts what it injected by kind, and what escaped botocore's retries by error code."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.injected: Counter[str] = Counter()
        self.escaped: Counter[str] = Counter()
        self.calls = 0
        self._random = random.Random(plan.seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()
        self._active = False

    @contextmanager
    def active(self, events: Any) -> Iterator[FaultInjector]:
        """Inject faults inside the block only; ``events`` is the session's event emitter, which
        reports each call's outcome after botocore's retries (clients made afterwards see it)."""
        from botocore import endpoint
        from botocore.retries import bucket
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        injector = self

        def faulty(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            return injector._handle(original, stubber, event_name, request, **kwargs)

        import time

        from lifeboat.local.moto_patches.engine import ScaledTime

        scaled_sleep = ScaledTime(time, self.plan.sleep_scale)
        with ExitStack() as stack:
            stack.enter_context(mock.patch.object(BotocoreStubber, "__call__", faulty))
            stack.enter_context(mock.patch.object(endpoint, "time", scaled_sleep))
            wait: Any = getattr(bucket.TokenBucket, "_sleep_amount")  # noqa: B009 - private, typed Any
            scale = self.plan.sleep_scale
            stack.enter_context(
                mock.patch.object(bucket.TokenBucket, "_sleep_amount", lambda b, n: wait(b, n) * scale)
            )
            for event, handler in (("after-call", self._after_call), ("after-call-error", self._after_error)):
                events.register(event, handler)
                stack.callback(events.unregister, event, handler)
            self._active = True
            try:
                yield self
            finally:
                self._active = False

    def _after_call(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        """After botocore's retries: an injected error that still reached the caller escaped."""
        code = ((parsed or {}).get("Error") or {}).get("Code")
        if self._active and code in INJECTED_CODES:
            with self._lock:
                self.escaped[str(code)] += 1

    def _after_error(self, exception: Exception | None = None, **_: Any) -> None:
        if self._active and type(exception).__name__ == "ReadTimeoutError":
            with self._lock:
                self.escaped["lost-response"] += 1

    # --- one request ---------------------------------------------------------------------
    def _handle(self, original: Any, stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        service, _, operation = event_name.removeprefix("before-send.").partition(".")
        protocol = _PROTOCOLS.get(service)
        if not self._active or protocol is None:
            return original(stubber, event_name, request, **kwargs)
        with self._lock:
            self.calls += 1
            draw, kind_draw = self._random.random(), self._random.random()
        plan = self.plan
        if plan.down_regions and _region_of(request.url) in plan.down_regions:
            return self._region_down(request, protocol)
        if operation in COPY_CALLS and draw < plan.copy_quota_rate:
            self._count("copy-quota")
            return _error(request, protocol, "SnapshotQuotaExceeded", 400, "Copy quota exceeded")
        if operation in MUTATING_CALLS and draw < plan.lost_response_rate:
            response = original(stubber, event_name, request, **kwargs)
            if response is not None and response.status_code < 300:
                from botocore.exceptions import ReadTimeoutError

                self._count("lost-response")
                raise ReadTimeoutError(endpoint_url=request.url)
            return response
        if draw < plan.error_rate:
            return self._throttle_or_5xx(request, protocol, kind_draw)
        return original(stubber, event_name, request, **kwargs)

    def _throttle_or_5xx(self, request: Any, protocol: str, kind_draw: float) -> Any:
        """Half throttles, a quarter each of 500 InternalFailure and 503 ServiceUnavailable."""
        if kind_draw < 0.5:
            self._count("throttle")
            return _error(request, protocol, _THROTTLE_CODES[protocol], 400, "Rate exceeded")
        code, status = _SERVER_ERRORS[0] if kind_draw < 0.75 else _SERVER_ERRORS[1]
        self._count(code)
        return _error(request, protocol, code, status, "We encountered an internal error")

    def _region_down(self, request: Any, protocol: str) -> Any:
        """The answer of a region that is down: a connection error, or a 503."""
        self._count("region-down")
        if self.plan.outage == "503":
            return _error(request, protocol, "ServiceUnavailable", 503, "Service Unavailable")
        from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

        if self.plan.outage == "timeout":
            import time

            time.sleep(self.plan.connect_seconds)
            raise ConnectTimeoutError(endpoint_url=request.url)
        raise EndpointConnectionError(endpoint_url=request.url)

    def lambda_times_out(self, function: str) -> bool:
        """Whether this invocation of ``function`` is reported as timed out after its work."""
        if not self._active or self.plan.lambda_timeout_rate <= 0:
            return False
        with self._lock:
            timed_out = self._random.random() < self.plan.lambda_timeout_rate
        if timed_out:
            self._count("lambda-timeout")
        return timed_out

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1


def _region_of(url: str) -> str | None:
    """The region of an endpoint URL (``rds.us-west-2.amazonaws.com``, ``s3.eu-west-1...``)."""
    host = urlsplit(url).hostname or ""
    labels = host.split(".")
    return next((label for label in labels if _REGION.match(label)), None)


def _error(request: Any, protocol: str, code: str, status: int, message: str) -> Any:
    """An error response in the protocol's wire format, as the service would send it."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders
    from moto.core.botocore_stubber import MockRawResponse

    if code == "SlowDown":
        status = 503  # S3 throttles with a 503
    headers = HTTPHeaders()
    headers["x-amzn-requestid"] = "lifeboat-fault"
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        headers["Content-Type"] = "application/x-amz-json-1.0"
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>lifeboat-fault</RequestID></Response>"
        )
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>lifeboat-fault</RequestId></ErrorResponse>"
        )
    return AWSResponse(request.url, status, headers, MockRawResponse(body))
