"""The restore and drill sample events (events/restore/) are what each handler receives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.contracts.backup import StepError, StepRequest
from lifeboat.contracts.restore import (
    AbortRequest,
    DrillCopyTeardown,
    DrillPlanInput,
    DrillRunRequest,
    PlanInput,
    RecordRequest,
    RestoreMode,
    RestoreRequest,
    RestoreStep,
)
from lifeboat.domain.operations import OperationStatus
from lifeboat.domain.restore import PURPOSE_TAG, RESTORE_OPERATION_TAG, Purpose, is_drill_resource
from lifeboat.handler import parse
from lifeboat.local.template import apply_input_transformer, load_template
from pydantic import BaseModel

EVENTS = Path(__file__).resolve().parents[2] / "events"
HANDLER_INPUTS: dict[str, type[BaseModel]] = {
    "restore_request.json": RestoreRequest,
    "restore_request_point_in_time.json": RestoreRequest,
    "restore_plan.json": PlanInput,
    "drill_item_plan.json": PlanInput,
    "restore_step.json": RestoreStep,
    "drill_step.json": RestoreStep,
    "restore_record_succeeded.json": RecordRequest,
    "restore_record_failed.json": RecordRequest,
    "drill_run_manual.json": DrillRunRequest,
    "drill_plan.json": DrillPlanInput,
    "teardown_abort.json": AbortRequest,
    "teardown_drill_copy.json": DrillCopyTeardown,  # a failover experiment's drill copy
    "profile_source.json": StepRequest,
}


def event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / "restore" / name).read_text()))


def test_every_restore_event_is_a_known_handler_input() -> None:
    # GIVEN events/restore THEN each file is parsed by one of the tests below
    assert {p.name for p in (EVENTS / "restore").glob("*.json")} == set(HANDLER_INPUTS)


@pytest.mark.parametrize(("name", "model"), HANDLER_INPUTS.items())
def test_each_event_parses_with_its_contract_model(name: str, model: type[BaseModel]) -> None:
    # GIVEN a sample event WHEN the handler's parse step reads it THEN it is valid input
    raw = event(name)
    inner = {"teardown_abort.json": "abort", "teardown_drill_copy.json": "drillCopy"}.get(name)
    assert isinstance(parse(model, raw[inner] if inner else raw), model)


def test_the_restore_plan_event_wraps_the_operators_request() -> None:
    # GIVEN the request an operator starts the restore workflow with
    request = parse(RestoreRequest, event("restore_request.json"))
    # WHEN the workflow's Start state wraps it for the plan step
    plan_input = parse(PlanInput, event("restore_plan.json"))
    # THEN the plan step gets exactly that request: the newest valid copy in us-west-2
    assert plan_input.request == event("restore_request.json")
    assert (request.mode, request.target_region) == (RestoreMode.LATEST, "us-west-2")


def test_a_point_in_time_request_names_its_time_and_a_new_target() -> None:
    request = parse(RestoreRequest, event("restore_request_point_in_time.json"))
    assert request.mode is RestoreMode.POINT_IN_TIME
    assert request.target_identifier == "orders-db-before-bad-migration"


def test_a_drill_step_is_tagged_as_that_drills_own_temporary_resource() -> None:
    # GIVEN the plan a drill's teardown receives
    plan = parse(RestoreStep, event("drill_step.json")).plan
    # THEN its resource carries the drill purpose and the drill's own operation id: the only
    # resource that teardown may delete
    assert plan.purpose is Purpose.DRILL
    assert plan.spec.tags[PURPOSE_TAG] == "drill"
    assert plan.spec.tags[RESTORE_OPERATION_TAG] == plan.operation_id
    assert is_drill_resource(plan.spec.tags, plan.operation_id)
    assert not plan.spec.deletion_protection
    # AND the policy tag was dropped, so discovery never protects the temporary instance
    assert "lifeboat:policy" not in plan.spec.tags


def test_a_prod_restore_is_protected_and_a_failed_record_carries_the_lambda_error() -> None:
    plan = parse(RestoreStep, event("restore_step.json")).plan
    assert plan.purpose is Purpose.RESTORE and plan.spec.deletion_protection
    failed = parse(RecordRequest, event("restore_record_failed.json"))
    assert failed.outcome is OperationStatus.FAILED
    assert isinstance(failed.error, StepError) and failed.error.error == "RestoreFailed"
    assert failed.error.message is not None and "incompatible-restore" in failed.error.message


def test_the_drill_schedule_delivers_a_scheduled_drill_run() -> None:
    # GIVEN the drill rule of template.yaml and a scheduled event
    target = load_template().schedule_rules()["DrillSchedule"]["Targets"][0]
    scheduled = json.loads((EVENTS / "schedule_daily.json").read_text())
    # WHEN EventBridge applies the rule's InputTransformer
    run_input = apply_input_transformer(target["InputTransformer"], scheduled)
    # THEN the drill workflow gets a scheduled run over the policies that enable drills
    request = parse(DrillRunRequest, run_input)
    assert (request.trigger, request.resources) == ("schedule", None)
