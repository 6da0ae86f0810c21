"""Bad handler input is refused before any AWS call, with a message naming the bad field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from lifeboat.contracts.backup import OutcomeRequest, PlanRequest, ResourceTask, StepRequest
from lifeboat.errors import InvalidInput
from lifeboat.handler import parse

EventLoader = Callable[..., dict[str, Any]]


def test_a_malformed_resource_arn_is_named(load_event: EventLoader) -> None:
    # GIVEN the preflight input with a resource given by name instead of ARN
    event = load_event("health_check.json")
    event["resource"]["arn"] = "orders-db"
    # WHEN the handler parses it THEN InvalidInput names the field and the problem
    with pytest.raises(InvalidInput) as refused:
        parse(ResourceTask, event)
    message = str(refused.value)
    assert message.startswith("invalid ResourceTask: resource.arn: ")
    assert "malformed ARN 'orders-db'" in message


def test_an_unknown_tier_is_named(load_event: EventLoader) -> None:
    """GIVEN a preflight input asking for a fortnightly tier WHEN parsed THEN the tier field and its
    choices are named."""
    event = load_event("health_check.json") | {"tier": "fortnightly"}
    with pytest.raises(
        InvalidInput,
        match="tier: Input should be 'hourly', 'every6h', 'daily', 'weekly', 'monthly' or 'yearly'",
    ):
        parse(ResourceTask, event)


def test_a_scheduled_time_without_timezone_is_refused(load_event: EventLoader) -> None:
    """GIVEN a scheduled time without timezone WHEN parsed THEN scheduledAt is named as the problem."""
    event = load_event("health_check.json") | {"scheduledAt": "2026-11-22T03:00:00"}
    with pytest.raises(InvalidInput, match=r"scheduledAt: .*timezone"):
        parse(ResourceTask, event)


def test_a_missing_preflight_field_is_named_with_its_path(load_event: EventLoader) -> None:
    # GIVEN the source validation's input whose preflight lost its recovery point id
    event = load_event("validate_source.json")
    del event["preflight"]["recoveryPointId"]
    # THEN the nested path is given in the JSON's own (camelCase) names
    with pytest.raises(
        InvalidInput, match=r"invalid StepRequest: preflight\.recoveryPointId: Field required"
    ):
        parse(StepRequest, event)


def test_every_problem_is_reported_at_once(load_event: EventLoader) -> None:
    """GIVEN an input with two bad fields WHEN parsed THEN both are named in one error."""
    event = load_event("health_check.json") | {"tier": "fortnightly", "runId": None}
    with pytest.raises(InvalidInput) as refused:
        parse(ResourceTask, event)
    assert "tier:" in str(refused.value)
    assert "runId:" in str(refused.value)


def test_an_unknown_outcome_is_refused(load_event: EventLoader) -> None:
    """GIVEN an outcome that is not a status WHEN parsed THEN the outcome field is named."""
    event = load_event("update_state_succeeded.json") | {"outcome": "DONE"}
    with pytest.raises(InvalidInput, match="outcome: Input should be"):
        parse(OutcomeRequest, event)


def test_a_non_object_event_is_refused() -> None:
    """GIVEN an event that is a list WHEN parsed THEN the whole event is named as the problem."""
    with pytest.raises(InvalidInput, match="invalid PlanRequest: <event>: "):
        parse(PlanRequest, ["not", "an", "object"])


def test_parsing_does_not_change_the_event(load_event: EventLoader) -> None:
    """GIVEN a sample event WHEN it is parsed THEN the event itself is left as it was."""
    event = load_event("validate_copy.json")
    before = copy.deepcopy(event)
    parse(StepRequest, event)
    assert event == before
