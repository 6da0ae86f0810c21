"""The experiment workflow's sample events (events/experiment/, recorded from a real local run of
the Aurora failover experiment) are what each experiment handler parses, and tell one story."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.contracts.experiments import ExperimentRequest, PrepareInput, StepInput
from lifeboat.domain.experiments import FaultKind
from lifeboat.handler import parse
from pydantic import BaseModel

EXPERIMENT_EVENTS = Path(__file__).resolve().parents[2] / "events" / "experiment"
INPUTS: dict[str, type[BaseModel]] = {
    "experiment_request.json": ExperimentRequest,
    "prepare_input.json": PrepareInput,
    "approval_step.json": StepInput,  # a critical experiment's, with its task token
    "inject_step.json": StepInput,
    "observe_step.json": StepInput,
    "rollback_step.json": StepInput,
    "record_step.json": StepInput,
}


def _event(name: str) -> dict[str, Any]:
    return dict(json.loads((EXPERIMENT_EVENTS / name).read_text()))


def test_every_experiment_event_is_a_handler_input() -> None:
    assert {p.name for p in EXPERIMENT_EVENTS.glob("*.json")} == set(INPUTS)


@pytest.mark.parametrize(("name", "model"), INPUTS.items())
def test_each_event_parses_with_its_handler_contract(name: str, model: type[BaseModel]) -> None:
    assert isinstance(parse(model, _event(name)), model)


def test_the_events_follow_one_experiment() -> None:
    # GIVEN the recorded run: the record step sees the fault the observe step waited for, and the
    # writer moved to the reader and back
    record = parse(StepInput, _event("record_step.json"))
    observe = parse(StepInput, _event("observe_step.json"))
    assert record.run == observe.run and record.injected == observe.injected
    assert record.run.spec.kind is FaultKind.AURORA_CLUSTER_FAILOVER and record.observed is not None
    assert record.run.before is not None and record.observed.after.writer != record.run.before.writer
    assert record.rolled_back == {"rollback": f"writer back to {record.run.before.writer}"}
    assert parse(StepInput, _event("approval_step.json")).task_token
