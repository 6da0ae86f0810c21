"""The sample events in events/ are exactly what each handler receives, and never drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lifeboat.contracts.backup import (
    AwaitedStep,
    BackupRunEnded,
    OutcomeRequest,
    PlanRequest,
    ResourceTask,
    SlotRequest,
    StepError,
    StepRequest,
)
from lifeboat.domain.completion import CompletionEvent
from lifeboat.domain.ids import backup_operation_id, recovery_point_id, run_id
from lifeboat.domain.operations import OperationStatus
from lifeboat.domain.policy import Tier
from lifeboat.handler import parse
from lifeboat.local.template import apply_input_transformer, load_template
from pydantic import BaseModel

HANDLER_INPUTS: dict[str, type[BaseModel]] = {
    "plan.json": PlanRequest,
    "health_check.json": ResourceTask,
    "snapshot.json": AwaitedStep,
    "validate_source.json": StepRequest,
    "validate_copy.json": StepRequest,
    "replicate.json": AwaitedStep,
    "copy_slot.json": SlotRequest,
    "update_state_succeeded.json": OutcomeRequest,
    "update_state_failed.json": OutcomeRequest,
    "update_state_copy_failed.json": OutcomeRequest,
    "completion_event_rds.json": CompletionEvent,
    "completion_event_ebs.json": CompletionEvent,
    "backup_run_stopped.json": BackupRunEnded,
}
EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
EventLoader = Callable[..., dict[str, Any]]
TRIGGERS = {"schedule_daily.json", "backup_run_daily.json"}
STEP_EVENTS = [name for name, model in HANDLER_INPUTS.items() if model in (StepRequest, AwaitedStep)]


def test_every_event_file_is_a_known_trigger_or_handler_input() -> None:
    # GIVEN the events directory
    names = {path.name for path in EVENTS_DIR.glob("*.json")}
    # THEN each file is either a trigger or the input of a handler this suite parses
    assert names == TRIGGERS | set(HANDLER_INPUTS)


@pytest.mark.parametrize(("name", "model"), HANDLER_INPUTS.items())
def test_handler_input_parses_with_its_contract_model(
    name: str, model: type[BaseModel], load_event: EventLoader
) -> None:
    # GIVEN a sample handler input
    event = load_event(name)
    # WHEN the handler's parse step reads it
    parsed = parse(model, event)
    # THEN it is valid input for that handler
    assert isinstance(parsed, model)


def test_event_recovery_point_ids_match_the_id_function(load_event: EventLoader) -> None:
    # GIVEN the resource, tier and scheduled time every sample event is about
    task = parse(ResourceTask, load_event("health_check.json"))
    expected_point = recovery_point_id(task.resource.arn, task.tier, task.scheduled_at)
    # WHEN the ids hard-coded in the step events are read
    # THEN they are exactly what the deterministic id functions produce
    assert task.run_id == run_id(task.tier, task.scheduled_at)
    outcomes = ["update_state_succeeded.json", "update_state_failed.json", "update_state_copy_failed.json"]
    for name in [*STEP_EVENTS, *outcomes]:
        event = load_event(name)
        preflight = (event.get("state") or event.get("step") or event)["preflight"]
        assert preflight["recoveryPointId"] == expected_point, name
        assert preflight["operationId"] == backup_operation_id(expected_point), name
    assert load_event("validate_source.json")["snapshot"]["recoveryPointId"] == expected_point


def test_events_describe_the_orders_db_daily_run(load_event: EventLoader) -> None:
    # GIVEN the per-resource input of the sample run
    task = parse(ResourceTask, load_event("health_check.json"))
    # THEN it is the prod daily backup of orders-db scheduled at 03:00 UTC
    assert task.resource.arn == "arn:aws:rds:us-east-1:123456789012:db:orders-db"
    assert task.resource.policy == "prod"
    assert task.tier is Tier.DAILY
    assert task.scheduled_at == datetime.fromisoformat("2026-11-22T03:00:00+00:00")


@pytest.mark.parametrize("name", [*STEP_EVENTS, "update_state_succeeded.json", "update_state_failed.json"])
def test_step_events_carry_the_same_task_and_preflight(name: str, load_event: EventLoader) -> None:
    # GIVEN the preflight's input and the snapshot step's input (the preflight's output merged in)
    task = load_event("health_check.json")
    preflight = load_event("snapshot.json")["step"]["preflight"]
    # WHEN a later step's input is read
    event = load_event(name)
    state = event.get("state") or event.get("step") or event
    # THEN it is about the same resource and run, with the same preflight facts
    assert {k: state[k] for k in task} == task
    assert state["preflight"] == preflight


def test_copy_events_carry_the_policys_key_then_the_resolved_one(load_event: EventLoader) -> None:
    # GIVEN the input of the copy step: one of the preflight's DR targets, with the policy's key
    # id as written (an alias here): the preflight never calls a DR region
    copy = parse(AwaitedStep, load_event("replicate.json")).step
    assert copy.target is not None and copy.target in copy.preflight.targets
    assert copy.target.kms_key_id == "alias/lifeboat-dr"
    # AND the input of the copy's validation: the same region, its key resolved to an ARN there
    validation = parse(StepRequest, load_event("validate_copy.json"))
    assert validation.target is not None and validation.target.region == copy.target.region
    key = validation.target.kms_key_id or ""
    assert key.startswith(f"arn:aws:kms:{validation.target.region}:123456789012:key/")


def test_daily_schedule_event_becomes_the_daily_run_input(load_event: EventLoader) -> None:
    # GIVEN the scheduled event EventBridge delivers and the daily rule of template.yaml
    target = load_template().schedule_rules()["DailyBackupSchedule"]["Targets"][0]
    # WHEN the rule's InputTransformer is applied
    run_input = apply_input_transformer(target["InputTransformer"], load_event("schedule_daily.json"))
    # THEN the state machine receives events/backup_run_daily.json, which plan.json wraps
    assert run_input == load_event("backup_run_daily.json")
    assert load_event("plan.json")["request"] == run_input


def test_failed_outcome_event_carries_a_lambda_error_as_a_catch_produces(load_event: EventLoader) -> None:
    # GIVEN the RecordFailure input
    request = parse(OutcomeRequest, load_event("update_state_failed.json"))
    # THEN it asks for FAILED and its error is {Error, Cause} with a Lambda error JSON as Cause
    assert request.outcome is OperationStatus.FAILED
    assert isinstance(request.state.error, StepError)
    cause = json.loads(request.state.error.cause or "")
    assert cause["errorType"] == request.state.error.error == "ValidationFailed"
    # AND the human part of the cause is what an operator reads
    assert request.state.error.message == cause["errorMessage"]
    assert "size_gib (expected 100, got 99)" in cause["errorMessage"]


def test_succeeded_outcome_event_asks_for_succeeded(load_event: EventLoader) -> None:
    # GIVEN the RecordSuccess input
    request = parse(OutcomeRequest, load_event("update_state_succeeded.json"))
    # THEN it asks for SUCCEEDED and carries no error
    assert request.outcome is OperationStatus.SUCCEEDED
    assert request.state.error is None
