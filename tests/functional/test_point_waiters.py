"""A task waiting for its point is resumed once, by whichever sees the point finished first:
the step itself or the point's completion event (issue 19, service/completion.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from lifeboat.domain.completion import CompletionEvent
from lifeboat.local.runtime import LocalCloud
from lifeboat.service import completion
from lifeboat.service.deps import Deps, deps_from_env

POINT = "lb-orders-db-daily-202611220300-6d483cac"
OUTPUT = {"region": "us-west-2", "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/k"}


@dataclass
class FakePoint:
    """A copy in us-west-2 whose status the test sets; ``on_describe`` runs as it is described."""

    status: str = "copying"
    completion_events: frozenset[str] = frozenset({"copy"})
    on_describe: Any = None
    described: int = field(default=0)

    def point_identifier(self, region: str, recovery_point_id: str) -> str:
        return recovery_point_id

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> Any:
        self.described += 1
        if self.on_describe:
            self.on_describe()
        return mock.Mock(status=self.status)


@pytest.fixture
def deps() -> Iterator[Deps]:
    with LocalCloud():
        yield deps_from_env()


@pytest.fixture
def resumed() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    sent: list[tuple[str, dict[str, Any]]] = []

    def send(sfn: Any, token: str, output: dict[str, Any], what: str) -> str | None:
        sent.append((token, output))
        return None  # sent: the task was waiting

    with mock.patch.object(completion, "send_success", send):
        yield sent


def _event(load_event: Any) -> CompletionEvent:
    return CompletionEvent.model_validate(load_event("completion_event_rds.json"))


def _await(deps: Deps, point: FakePoint, *, started: bool = False) -> None:
    completion.await_point(
        point,  # type: ignore[arg-type]
        "us-west-2",
        POINT,
        "copy",
        started=started,
        token="t1",
        output=OUTPUT,
        deps=deps,
    )


@pytest.mark.parametrize("started", [True, False])
def test_a_copy_in_progress_is_resumed_by_its_event_once(
    deps: Deps, resumed: list[Any], load_event: Any, started: bool
) -> None:
    # GIVEN a copy still copying, just started by its step or found by it (a step run again), in a
    # region whose events are forwarded
    point = FakePoint()
    with mock.patch.dict(os.environ, {completion.EVENT_REGIONS_ENV: "us-west-2"}):
        _await(deps, point, started=started)
        # (a copy the step just started is not described: it cannot be finished yet)
        assert point.described == (0 if started else 1)
        assert resumed == []
        # WHEN its completion event arrives, and EventBridge delivers it a second time
        first = completion.on_event(_event(load_event), deps)
        second = completion.on_event(_event(load_event), deps)
    # THEN the task was resumed once, with the step's output
    assert (first, second) == (True, False)
    assert resumed == [("t1", OUTPUT)]


def test_an_event_arriving_while_the_step_looks_resumes_the_task_once(
    deps: Deps, resumed: list[Any], load_event: Any
) -> None:
    # GIVEN a copy found by its step run again, that finishes (and its event arrives) just as the
    # step describes it
    point = FakePoint(status="available")
    point.on_describe = lambda: completion.on_event(_event(load_event), deps)
    # WHEN the step waits for it
    with mock.patch.dict(os.environ, {completion.EVENT_REGIONS_ENV: "us-west-2"}):
        _await(deps, point)
    # THEN the task was resumed once (by the event), not again by the step
    assert resumed == [("t1", OUTPUT)]


def test_a_copy_into_a_region_whose_events_are_not_forwarded_is_resumed_at_once(
    deps: Deps, resumed: list[Any]
) -> None:
    # GIVEN a copy into us-west-2, whose events do not reach the stack's region
    point = FakePoint()
    with mock.patch.dict(os.environ, {completion.EVENT_REGIONS_ENV: "eu-west-1"}):
        _await(deps, point)
    # THEN its task is resumed at once (its validation polls) without describing it
    assert resumed == [("t1", OUTPUT)]
    assert point.described == 0
