"""Inputs and outputs of the experiment workflow's steps (statemachines/experiment.asl.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from lifeboat.contracts.backup import Notification
from lifeboat.domain.experiments import ExperimentOutcome, ExperimentSpec, TargetState
from lifeboat.domain.models import CamelModel


class ExperimentRequest(CamelModel):
    """What an operator starts: ``lifeboat experiment run NAME``."""

    experiment: str = Field(min_length=1, max_length=128)
    requested_by: str | None = None


class PrepareInput(CamelModel):
    request: dict[str, Any]
    execution_id: str
    start_time: datetime


class ExperimentRun(CamelModel):
    """One run of an experiment, as its steps pass it on."""

    operation_id: str
    name: str
    spec: ExperimentSpec
    execution_id: str
    started_at: datetime
    ready: bool
    problems: list[str] = Field(default_factory=list)
    approval_required: bool = False
    before: TargetState | None = None
    # replica-promotion-drill: the drill copy's identifier and the DR key it is encrypted with.
    drill_copy: str | None = None
    drill_kms_key_id: str | None = None


class Observed(CamelModel):
    """The resource after the fault: recovered, how long it took, what was seen."""

    after: TargetState
    recovery_seconds: float
    seen: str


class StepInput(CamelModel):
    """What the steps after prepare receive: the run and what the earlier steps added."""

    model_config = ConfigDict(extra="ignore")

    run: ExperimentRun
    task_token: str | None = None
    injected: dict[str, Any] | None = None
    observed: Observed | None = None
    rolled_back: dict[str, Any] | None = None
    rollback_error: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class ExperimentResult(CamelModel):
    operation_id: str
    outcome: ExperimentOutcome
    passed: bool
    notification: Notification
