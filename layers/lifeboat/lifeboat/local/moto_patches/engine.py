"""moto's engine: Step Functions' waits and retries, Lambda task clients, request handling.

- Waits, Retry intervals and a ``.waitForTaskToken`` task's ``TimeoutSeconds`` run in real time
  in moto: scale them so a run with hour-long back-off budgets and waits finishes in seconds
  (the ASL itself is unchanged). A task's wait is never scaled below ``MIN_TOKEN_WAIT`` real
  seconds: the handler that resumes it runs in real time (tens of milliseconds, seconds on a
  loaded machine), and a shorter wait would time out before it could be resumed.
- A ``.waitForTaskToken`` task whose wait timed out is retried with the same token in moto, its
  wait already over: every retry timed out at once (23 retries of AcquireCopySlot in a moment).
  AWS gives each attempt a new token, and answers ``TaskTimedOut`` to a token whose wait timed
  out (the copy gate hands that slot to the next in line): do both (moto's own ``TaskTimedOut``
  fails to build its answer, a ``TypeError``).
- moto builds a new boto3 client for every Lambda task: cache them (about 3x faster Maps).
- moto's backends are not thread-safe: serialize its request handling (see below).
- moto's ``SendTaskFailure`` drops the request's ``cause``: pass it on, as AWS does (a refused or
  emergency-stopped experiment says who and why through it).
- moto makes a state's ``heap_key`` (where an execution keeps e.g. a retrier's attempt count) on
  first use, unlocked: two Map iterations reaching a retrier together could each make one, and
  one of them then got an extra retry (1 + 41 copy attempts for MaxAttempts 40). Make it once.
- moto parses every new state machine's ASL (about a second each): parse a definition once per
  process; every emulated account creates the same ones, and executions parse them anyway.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["MIN_TOKEN_WAIT", "ScaledTime", "patch_engine"]


class ScaledTime:
    """``time`` whose ``sleep`` lasts a share of the time asked: the emulator's waits."""

    def __init__(self, real: Any, scale: float) -> None:
        self._real, self._scale = real, scale

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


MIN_TOKEN_WAIT = 5.0
_moto_lock = threading.RLock()
# ASL definitions moto has already parsed in this process: parsing one takes about a second and
# every emulated account creates the same state machines (executions parse them again anyway).
_validated_definitions: set[str] = set()


def _validate_once(validate: Any) -> Any:
    def validate_once(definition: str) -> None:
        if definition not in _validated_definitions:
            validate(definition)
            _validated_definitions.add(definition)

    return staticmethod(validate_once)


def _serialized(call_action: Any) -> Any:
    def serialized_call_action(self: Any) -> Any:
        with _moto_lock:
            return call_action(self)

    return serialized_call_action


_heap_key_lock = threading.Lock()


def _heap_key_once(self: Any) -> str:
    """``EvalComponent.heap_key``, made by one thread only: the Map's iterations share the state."""
    from moto.stepfunctions.parser.asl.component import eval_component

    key: str | None = self.__dict__.get("_EvalComponent__heap_key")
    if key is None:
        with _heap_key_lock:
            key = self.__dict__.get("_EvalComponent__heap_key")
            if key is None:
                key = str(eval_component.long_uid())
                self.__dict__["_EvalComponent__heap_key"] = key
    return key


def _send_task_failure(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _send_task_success(self: Any, task_token: str, outcome: str) -> None:
    """moto's, answering as AWS does: ``TaskTimedOut`` for a token whose wait timed out (moto
    tested the wrong object and then failed to build its own error)."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.callback import callback

    success = callback.CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
    for execution in self._get_executions(ExecutionStatus.RUNNING):
        try:
            if execution.exec_worker.env.callback_pool_manager.notify(
                callback_id=task_token, outcome=success
            ):
                return
        except callback.CallbackNotifyConsumerError as refused:
            if isinstance(refused.callback_consumer_error, callback.CallbackConsumerTimeout):
                raise AWSError("the task's wait for this token timed out", "TaskTimedOut") from refused
            raise AWSError("the task no longer waits for this token", "TaskDoesNotExist") from refused
    raise AWSError("no task waits for this token", "InvalidToken")


def patch_engine(stack: ExitStack, time_scale: float) -> None:
    import time

    from moto.core.responses import BaseResponse
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback_tasks,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.callback import callback as callback_state
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_wait = WaitFunction._wait_interval
    StateTaskServiceCallback = callback_tasks.StateTaskServiceCallback
    original_token_wait = StateTaskServiceCallback._wait_for_task_token_timeout
    original_client_for = lambda_eval_utils.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        original_wait(self, env, wait_seconds * time_scale)

    def scaled_token_wait(self: Any, timeout_seconds: float, callback_endpoint: Any) -> Any:
        outcome = original_token_wait(
            self, max(timeout_seconds * time_scale, MIN_TOKEN_WAIT), callback_endpoint
        )
        if outcome is None:  # timed out: a late SendTaskSuccess is answered TaskTimedOut
            callback_endpoint.report(callback_state.CallbackConsumerTimeout())
        return outcome

    original_execution = StateTaskServiceCallback._eval_execution

    def token_per_attempt(self: Any, env: Any) -> Any:
        task = env.states.context_object.context_object_data.get("Task")
        endpoint = env.callback_pool_manager.get(task["Token"]) if task else None
        if endpoint is not None and endpoint.consumer_error is not None:  # an earlier attempt's wait
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        return original_execution(self, env)

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original_client_for(region, service, state_credentials)
            return clients[(region, service)]

    stack.enter_context(mock.patch.object(retrier_decl, "time", ScaledTime(time, time_scale)))
    stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", scaled_wait))
    stack.enter_context(
        mock.patch.object(StateTaskServiceCallback, "_wait_for_task_token_timeout", scaled_token_wait)
    )
    stack.enter_context(mock.patch.object(StateTaskServiceCallback, "_eval_execution", token_per_attempt))
    stack.enter_context(mock.patch.object(EvalComponent, "heap_key", property(_heap_key_once)))
    stack.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", cached_client_for))
    from moto.stepfunctions.responses import StepFunctionResponse

    stack.enter_context(mock.patch.object(StepFunctionResponse, "send_task_failure", _send_task_failure))
    stack.enter_context(
        mock.patch.object(
            StepFunctionsParserBackend,
            "send_task_success",
            _send_task_success,
        )
    )
    validate = StepFunctionsParserBackend._validate_definition
    stack.enter_context(
        mock.patch.object(StepFunctionsParserBackend, "_validate_definition", _validate_once(validate))
    )
    # moto's backends are plain dicts: at 1,000 concurrent Map iterations a describe that
    # iterates snapshots while another thread inserts one failed with "OrderedDict mutated
    # during iteration". AWS serves concurrent calls safely; serialize moto's handling.
    serialized = _serialized(BaseResponse.call_action)
    stack.enter_context(mock.patch.object(BaseResponse, "call_action", serialized))
