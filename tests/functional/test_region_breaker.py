"""The per-region breaker of the copy steps (issue 20): outage-like failures count, a blip stays a
retried TransientAwsError, TRIP_AFTER in a row trip it; it holds for the run that tripped it, a
step of another run probes, and success closes it. Anything that is not an outage (a throttle, a
refused call) never counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from lifeboat.errors import RegionUnreachable, TransientAwsError
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import Deps, deps_from_env
from lifeboat.service.regions import HOLD, reaching
from lifeboat.state import breakers
from lifeboat.state.breakers import TRIP_AFTER

DOWN = "us-west-2"
NOW = datetime(2026, 11, 22, 3, 2, tzinfo=UTC)


@pytest.fixture
def deps() -> Iterator[Deps]:
    with LocalCloud():
        yield deps_from_env()


def _outage() -> TransientAwsError:
    """What the adapters raise when botocore cannot connect, past its own retries."""
    try:
        raise EndpointConnectionError(endpoint_url=f"https://rds.{DOWN}.amazonaws.com/")
    except EndpointConnectionError as exc:
        try:
            raise TransientAwsError(f"copy to {DOWN}: {exc}") from exc
        except TransientAwsError as transient:
            return transient


def _at(deps: Deps, moment: datetime) -> Deps:
    deps.now = lambda: moment
    return deps


def _trip(deps: Deps, run: str, moment: datetime = NOW) -> None:
    """TRIP_AFTER copy steps of ``run`` find the region down: the first ones stay retryable."""
    for attempt in range(1, TRIP_AFTER + 1):
        expected = RegionUnreachable if attempt == TRIP_AFTER else TransientAwsError
        with pytest.raises(expected), reaching(_at(deps, moment), DOWN, run):
            raise _outage()


def test_a_blip_is_retried_and_a_repeated_outage_trips_the_breaker(deps: Deps) -> None:
    # GIVEN one failed call: still a TransientAwsError (the workflow retries it), region not flagged
    with pytest.raises(TransientAwsError) as blip, reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise _outage()
    assert not isinstance(blip.value, RegionUnreachable)
    assert breakers.open_breakers(deps.store) == {}
    # WHEN it repeats THEN the breaker trips, naming since when
    with pytest.raises(TransientAwsError), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise _outage()
    with (
        pytest.raises(RegionUnreachable, match=f"{DOWN} unreachable since 2026-11-22 03:02Z"),
        reaching(_at(deps, NOW), DOWN, "daily-A"),
    ):
        raise _outage()
    # AND another step of the run a minute later fails without running its block, saying why
    calls = []
    with (
        pytest.raises(RegionUnreachable, match="not called: its breaker is open"),
        reaching(_at(deps, NOW + timedelta(minutes=1)), DOWN, "daily-A"),
    ):
        calls.append("sent")
    assert calls == []
    assert set(breakers.open_breakers(deps.store)) == {DOWN}


def test_another_run_probes_and_a_success_closes_the_breaker(deps: Deps) -> None:
    _trip(deps, "daily-A")
    # WHEN a step of the next run calls the region and gets through
    calls = []
    with reaching(_at(deps, NOW + timedelta(hours=1)), DOWN, "daily-B"):
        calls.append("sent")
    # THEN it was sent, and the region is no longer flagged
    assert calls == ["sent"]
    assert breakers.open_breakers(deps.store) == {}


def test_the_same_run_probes_again_after_the_hold(deps: Deps) -> None:
    _trip(deps, "daily-A")
    # WHEN the region still fails at the probe, the breaker counts the failure and holds again
    with (
        pytest.raises(RegionUnreachable, match="unreachable since 2026-11-22 03:02Z"),
        reaching(_at(deps, NOW + HOLD), DOWN, "daily-A"),
    ):
        raise _outage()
    breaker = breakers.get(deps.store, DOWN)
    assert breaker is not None and breaker.failures == TRIP_AFTER + 1


def test_a_throttle_or_a_refusal_never_counts(deps: Deps) -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "CopyDBSnapshot")
    error = TransientAwsError("copy to us-west-2: Throttling: Rate exceeded")
    error.__cause__ = throttled
    with pytest.raises(TransientAwsError), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise error
    with pytest.raises(ValueError), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise ValueError("not AWS")
    assert breakers.get(deps.store, DOWN) is None
