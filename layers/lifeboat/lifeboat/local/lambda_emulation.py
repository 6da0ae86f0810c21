"""Serve ``lambda:Invoke`` calls in-process by running our handler modules.

Registered as a botocore ``before-call.lambda.Invoke`` hook on the default boto3 session, so the
Lambda tasks of a state machine executed by moto call our real handlers. An exception becomes
a Lambda function error whose ``errorType`` is the exception's class name, as on AWS, so the
ASL's Retry and Catch match it by name.
"""

from __future__ import annotations

import importlib.util
import io
import json
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.response import StreamingBody

from lifeboat.local.template import FunctionSpec
from lifeboat.observability import metrics


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object our handlers (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _body(payload: object) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


class LambdaEmulator:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        """``functions`` maps a function ARN to the handler it runs."""
        self.functions = functions
        self.invocations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        # Fault injection (local/faults.py): whether an invocation of this function times out
        # after its work is done.
        self.times_out_after_work: Callable[[str], bool] | None = None

    def handler_for(self, arn: str) -> Callable[[dict[str, Any], Any], Any]:
        spec = self.functions[arn]
        with self._lock:
            if arn not in self._modules:
                path = spec.code_dir / f"{spec.module}.py"
                loader = importlib.util.spec_from_file_location(f"lifeboat_fn_{spec.code_dir.name}", path)
                if loader is None or loader.loader is None:
                    raise FileNotFoundError(path)
                module = importlib.util.module_from_spec(loader)
                loader.loader.exec_module(module)
                self._modules[arn] = module
            return getattr(self._modules[arn], spec.attribute)  # type: ignore[no-any-return]

    def invoke(self, arn: str, event: Any) -> tuple[dict[str, Any], bool]:
        """Run a handler; returns (payload, failed)."""
        name = arn.rsplit(":", 1)[-1]
        self.invocations[name] += 1
        context = LambdaContext(name, arn, str(uuid.uuid4()))
        try:
            result = self.handler_for(arn)(event, context)
            if self.times_out_after_work is not None and self.times_out_after_work(name):
                # Its work is done, but Lambda reports a timeout: Step Functions retries the task.
                self.errors[name] += 1
                return {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": "Task timed out after 900.00 seconds",
                }, True
            return result, False
        except Exception as exc:  # noqa: BLE001 - every error must reach Step Functions, as on AWS
            self.errors[name] += 1
            return {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }, True
        finally:
            # Local mode disables EMF output, but Powertools then never clears its metric set
            # and prints it anyway once 100 values pile up: drop them after each invocation.
            metrics.clear_metrics()

    def before_call(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """botocore hook: answer ``lambda:Invoke`` for our functions, leave everything else alone."""
        target = unquote(params["url_path"]).split("/functions/", 1)[-1].split("/", 1)[0]
        if target not in self.functions:
            return None
        body = params.get("body") or b"{}"
        event = json.loads(body.decode() if isinstance(body, bytes) else body)
        payload, failed = self.invoke(target, event)
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": _body(payload)}
        if failed:
            parsed["FunctionError"] = "Unhandled"
        return AWSResponse(params.get("url", ""), 200, HTTPHeaders(), None), parsed
