"""Calls to a DR region behind its breaker: a region that is down fails its copies fast.

A copy step whose call to a region fails as an outage does (connection errors or 503s past the
SDK's retries) counts a failure on the region's breaker. Below ``TRIP_AFTER`` failures in a row
the step's error stays a TransientAwsError, which the workflow retries like any other; from
then on the step fails ``RegionUnreachable``, which the copy steps do not retry, and every other
copy step of the same run fails at once without calling the region, recorded with why. A step
of another run (the next cycle, a catch-up), or of the same run ``HOLD`` after the last
failure, probes: it calls the region; success closes the breaker, failure holds it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from lifeboat.errors import RegionUnreachable, TransientAwsError
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps
from lifeboat.state import breakers

__all__ = ["HOLD", "is_outage", "reaching"]

# How long a tripped breaker fails copies without calling the region before a step probes it.
HOLD = timedelta(minutes=10)
_OUTAGE_CODES = frozenset({"ServiceUnavailable", "Unavailable", "503"})


def is_outage(exc: TransientAwsError) -> bool:
    """What an SDK sees of a region that is down: it cannot connect, or the region answers 503."""
    cause = exc.__cause__
    if isinstance(cause, EndpointConnectionError | ConnectTimeoutError):
        return True
    return (
        isinstance(cause, ClientError) and str(cause.response.get("Error", {}).get("Code")) in _OUTAGE_CODES
    )


@contextmanager
def reaching(deps: Deps, region: str, run_id: str) -> Iterator[None]:
    """Run the block's calls to ``region`` unless its breaker holds for this run; trip it on an
    outage, close it when a probe gets through."""
    now = deps.now()
    breaker = breakers.get(deps.store, region)
    holding = breaker is not None and breaker.tripped and breaker.run_id == run_id
    if breaker is not None and holding and now - breaker.last_failure_at < HOLD:
        metrics.add_metric(name="RegionCallsSkipped", unit=MetricUnit.Count, value=1)
        raise RegionUnreachable(
            f"{region} unreachable since {breaker.opened_at:%Y-%m-%d %H:%MZ} ({breaker.failures} "
            f"failure(s); last: {breaker.reason}); not called: its breaker is open"
        )
    try:
        yield
    except TransientAwsError as exc:
        if not is_outage(exc):
            raise
        tripped = breakers.trip(deps.store, region, now=deps.now(), reason=str(exc), run_id=run_id)
        logger.warning("region failing", extra={"region": region, "failures": tripped.failures})
        if not tripped.tripped:
            raise  # a blip until it repeats: the workflow retries the step
        metrics.add_metric(name="RegionBreakerTripped", unit=MetricUnit.Count, value=1)
        raise RegionUnreachable(
            f"{region} unreachable since {tripped.opened_at:%Y-%m-%d %H:%MZ}: {exc}"
        ) from exc
    if breaker is not None:
        breakers.close(deps.store, region)
        logger.info("region reachable again", extra={"region": region})
