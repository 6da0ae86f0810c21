"""Local mode's Lambda: a handler's exception reaches Step Functions as an error named by its class."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from urllib.parse import quote

import pytest
from lifeboat.local.lambda_emulation import LambdaEmulator
from lifeboat.local.template import FunctionSpec

ARN = "arn:aws:lambda:us-east-1:123456789012:function:lifeboat-local-ReplicateFunction"

APP = dedent(
    """
    from lifeboat.errors import KmsKeyNotUsable

    def handler(event, context):
        if event.get("fail") == "lifeboat":
            raise KmsKeyNotUsable("KMS key alias/lifeboat-dr in eu-west-1 is Disabled, not Enabled")
        if event.get("fail") == "python":
            return {}["missing"]
        return {"echo": event, "function": context.function_name}
    """
)


@pytest.fixture
def emulator(tmp_path: Path) -> LambdaEmulator:
    """A function whose code directory holds a tiny app.py, as a SAM CodeUri would."""
    code = tmp_path / "replicate"
    code.mkdir()
    (code / "app.py").write_text(APP)
    return LambdaEmulator({ARN: FunctionSpec("ReplicateFunction", code, "app", "handler")})


def test_a_lifeboat_error_becomes_an_error_type_named_by_its_class(emulator: LambdaEmulator) -> None:
    # GIVEN a handler that raises KmsKeyNotUsable
    # WHEN it is invoked
    payload, failed = emulator.invoke(ARN, {"fail": "lifeboat"})
    # THEN the invocation failed with errorType = the class name, which ASL Retry/Catch match on
    assert failed
    assert payload["errorType"] == "KmsKeyNotUsable"
    assert payload["errorMessage"] == "KMS key alias/lifeboat-dr in eu-west-1 is Disabled, not Enabled"
    assert payload["stackTrace"]
    assert emulator.errors["lifeboat-local-ReplicateFunction"] == 1


def test_an_unexpected_python_error_is_reported_as_itself(emulator: LambdaEmulator) -> None:
    """GIVEN a handler hitting a KeyError WHEN invoked THEN errorType is KeyError."""
    payload, failed = emulator.invoke(ARN, {"fail": "python"})
    assert failed
    assert payload["errorType"] == "KeyError"


def test_a_successful_handler_returns_its_result_and_sees_a_lambda_context(emulator: LambdaEmulator) -> None:
    """GIVEN a handler that succeeds WHEN invoked THEN its result comes back, with the function's name in its
    context."""
    payload, failed = emulator.invoke(ARN, {"tier": "daily"})
    assert not failed
    assert payload == {"echo": {"tier": "daily"}, "function": "lifeboat-local-ReplicateFunction"}


def test_step_functions_sees_a_function_error_with_the_error_payload(emulator: LambdaEmulator) -> None:
    # GIVEN the lambda:Invoke request a state machine task sends for our function
    params = {
        "url_path": f"/2015-03-31/functions/{quote(ARN, safe='')}/invocations",
        "url": "https://lambda.us-east-1.amazonaws.com/",
        "body": json.dumps({"fail": "lifeboat"}).encode(),
    }
    # WHEN the botocore hook answers it
    answered = emulator.before_call(params)
    # THEN the response is a 200 with FunctionError and the error payload, as Lambda returns it
    assert answered is not None
    http, parsed = answered
    assert http.status_code == 200
    assert parsed["FunctionError"] == "Unhandled"
    assert json.loads(parsed["Payload"].read())["errorType"] == "KmsKeyNotUsable"


def test_invocations_of_other_functions_are_left_to_aws(emulator: LambdaEmulator) -> None:
    """GIVEN an invoke of a function not in the template WHEN the hook sees it THEN it lets the call through.
    GIVEN an invoke of a function not in the template WHEN the hook sees it THEN it lets the call through."""
    params = {"url_path": "/2015-03-31/functions/someone-elses-function/invocations", "body": b"{}"}
    assert emulator.before_call(params) is None
