"""The per-region breaker of the copy steps (issue 20): an outage trips it, it holds for the
run that found it, a step of another run probes, and success closes it. Anything that is not an
outage (a throttle, a refused call) never trips it."""

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


def test_an_outage_trips_the_breaker_and_the_rest_of_the_run_is_not_sent(deps: Deps) -> None:
    # GIVEN a copy step of run A whose call to the region cannot connect
    with (
        pytest.raises(RegionUnreachable, match=f"{DOWN} unreachable since 2026-11-22 03:02Z"),
        reaching(_at(deps, NOW), DOWN, "daily-A"),
    ):
        raise _outage()
    # THEN the breaker is open; WHEN another step of run A comes a minute later, it fails
    # without running its block (no call to the region), saying why
    calls = []
    with (
        pytest.raises(RegionUnreachable, match="not called: its breaker is open"),
        reaching(_at(deps, NOW + timedelta(minutes=1)), DOWN, "daily-A"),
    ):
        calls.append("sent")
    assert calls == []
    assert set(breakers.open_breakers(deps.store)) == {DOWN}


def test_another_run_probes_and_a_success_closes_the_breaker(deps: Deps) -> None:
    with pytest.raises(RegionUnreachable), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise _outage()
    # WHEN a step of the next run calls the region and gets through
    calls = []
    with reaching(_at(deps, NOW + timedelta(hours=1)), DOWN, "daily-B"):
        calls.append("sent")
    # THEN it was sent, and the region is no longer flagged
    assert calls == ["sent"]
    assert breakers.open_breakers(deps.store) == {}


def test_the_same_run_probes_again_after_the_hold(deps: Deps) -> None:
    with pytest.raises(RegionUnreachable), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise _outage()
    # WHEN the region still fails at the probe, the breaker counts the failure and holds again
    with (
        pytest.raises(RegionUnreachable, match="unreachable since 2026-11-22 03:02Z"),
        reaching(_at(deps, NOW + HOLD), DOWN, "daily-A"),
    ):
        raise _outage()
    assert breakers.get(deps.store, DOWN) is not None
    assert breakers.get(deps.store, DOWN).failures == 2  # type: ignore[union-attr]


def test_a_throttle_or_a_refusal_never_trips_the_breaker(deps: Deps) -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "CopyDBSnapshot")
    error = TransientAwsError("copy to us-west-2: Throttling: Rate exceeded")
    error.__cause__ = throttled
    with pytest.raises(TransientAwsError), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise error
    with pytest.raises(ValueError), reaching(_at(deps, NOW), DOWN, "daily-A"):
        raise ValueError("not AWS")
    assert breakers.open_breakers(deps.store) == {}
