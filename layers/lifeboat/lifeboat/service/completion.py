"""The backup's snapshot and copy steps wait for AWS to say their point is finished.

``CreateSnapshot`` and ``CopyToRegion`` are ``.waitForTaskToken`` tasks: each starts its point,
then leaves its token in the state table (``state/waiters.py``) and ends its invocation. The
point's completion event (RDS and EBS announce them on EventBridge, ``domain/completion.py``)
invokes ``on_event``, which resumes the task: transitions, invocations and describe calls no
longer grow with how long a snapshot or copy takes. Where no event will come (a type AWS does not
announce, a DR region whose events are not forwarded to the stack's region) the task is resumed
at once and validation polls, as before. Events are best effort: a wait that hears nothing times
out, and its step runs again, finds its point and resumes itself if it is finished.
"""

from __future__ import annotations

import os
from typing import Any

from lifeboat.aws.clients import fail_fast
from lifeboat.aws.task_tokens import send_success
from lifeboat.contracts.backup import AwaitedStep, RecoveryPointResult
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.completion import IN_PROGRESS, CompletionEvent
from lifeboat.domain.policy import DrTarget
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import PointStep, ResourcePlugin
from lifeboat.service import backup
from lifeboat.service.deps import Deps
from lifeboat.service.regions import reaching
from lifeboat.state import waiters

__all__ = ["EVENT_REGIONS_ENV", "await_point", "heard", "on_event", "replicate", "take_snapshot"]

# The DR regions whose completion events a forwarding rule sends to the stack's region
# (comma-separated, or * for every region; templates/dr-region-events.yaml deploys that rule).
EVENT_REGIONS_ENV = "COMPLETION_EVENT_REGIONS"


def heard(deps: Deps, region: str) -> bool:
    """Whether ``region``'s completion events reach this stack: its own, or a forwarded one."""
    forwarded = {r.strip() for r in os.environ.get(EVENT_REGIONS_ENV, "").split(",")}
    return region == deps.region or region in forwarded or "*" in forwarded


def take_snapshot(request: AwaitedStep, deps: Deps) -> RecoveryPointResult:
    """Start (or find) the source-region point; the task resumes when it is finished."""
    result = backup.take_snapshot(request.step, deps)
    ref = ResourceRef.parse(request.step.resource.arn)
    await_point(
        plugin_for(ref, deps.clients),
        ref.region,
        result.recovery_point_id,
        "snapshot",
        started=result.created,
        token=request.task_token,
        output=result.model_dump(mode="json", by_alias=True),
        deps=deps,
    )
    return result


def replicate(request: AwaitedStep, deps: Deps) -> DrTarget:
    """Start (or find) one DR region's copy; the task resumes when the copy is finished."""
    target, started = backup.replicate(request.step, deps)
    ref = ResourceRef.parse(request.step.resource.arn)
    with reaching(deps, target.region, request.step.run_id):
        await_point(
            plugin_for(ref, fail_fast(deps.clients)),
            target.region,
            request.step.point,
            "copy",
            started=started,
            token=request.task_token,
            output=target.model_dump(mode="json", by_alias=True),
            deps=deps,
        )
    return target


def on_event(event: CompletionEvent, deps: Deps) -> bool:
    """A completion event: resume the task waiting for that point, if one still waits."""
    finished = event.finished_point()
    if finished is None:
        return False
    waiter = waiters.take(deps.store, finished.region, finished.identifier)
    if waiter is None:
        return False  # nobody waits: the step saw it finished first, or the point is not ours
    resumed = _resume(deps, waiter.token, waiter.output, f"{finished.identifier} in {finished.region}")
    metrics.add_metric(name="WaitsEndedByEvent", unit=MetricUnit.Count, value=int(resumed))
    return resumed


def await_point(
    plugin: ResourcePlugin,
    region: str,
    point: str,
    step: PointStep,
    *,
    started: bool,
    token: str,
    output: dict[str, Any],
    deps: Deps,
) -> None:
    """Resume the task with ``output`` once ``point`` is finished in ``region``: at once where no
    event will say so, else through its completion event (``on_event``). ``started``: this step
    just started the point, which is not finished yet, so nothing is described (a point that
    finished in the milliseconds before its waiter was written is found when the wait times
    out); a point that already existed (the step ran before) may have finished meanwhile."""
    what = f"{point} in {region}"
    if step not in plugin.completion_events or not heard(deps, region):
        _resume(deps, token, output, what)  # no event will come: validation polls
        return
    identifier = plugin.point_identifier(region, point)
    waiters.register(deps.store, region, identifier, token=token, output=output, now=deps.now())
    if started or plugin.describe_recovery_point(region, point).status in IN_PROGRESS:
        logger.info("waiting for completion event", extra={"point": point, "region": region})
        return
    waiter = waiters.take(deps.store, region, identifier)
    if waiter is not None:  # else its event came first and resumed the task
        _resume(deps, waiter.token, waiter.output, what)


def _resume(deps: Deps, token: str, output: dict[str, Any], what: str) -> bool:
    sfn = deps.clients("stepfunctions", deps.region)
    if send_success(sfn, token, output, what) is None:
        return True
    logger.info("wait already over", extra={"point": what})
    return False
