"""A backup run that ended before its copies did (stopped by an operator, timed out, failed)
hands their copy slots back at once, instead of when their leases end.

A copy holds a slot of its destination region's copy gate (``state/copy_gate.py``) until its
validation sees it finished or its failure is recorded. A run stopped mid-way records neither:
its slots stayed taken for up to 3 hours (the lease), and the next run's copies waited for them.
Step Functions announces the end of every execution on EventBridge; for a backup run that ended
ABORTED, TIMED_OUT or FAILED this frees each slot held by one of the run's copies, waking the
next copy in line, and records the copy FAILED with why (the next run's catch-up copies it again
if its policy backfills, else the gap is noted).
"""

from __future__ import annotations

from contextlib import suppress

from pydantic import ValidationError

from lifeboat.contracts.backup import BackupRunEnded, RunRequest, StoppedRunRelease
from lifeboat.domain.ids import normalise_time, run_id, run_of
from lifeboat.domain.operations import OperationStatus
from lifeboat.errors import IllegalStatusTransition
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import ENTRIES
from lifeboat.service import copy_slots
from lifeboat.service.deps import Deps
from lifeboat.state import copy_gate, stopped_runs

RUN_STOPPED = "RunStopped"


def on_run_ended(event: BackupRunEnded, deps: Deps) -> StoppedRunRelease:
    """Free the slots of the ended run's copies, and record those copies FAILED."""
    try:
        request = RunRequest.model_validate_json(event.detail.input)
    except ValidationError:
        # Refused before its plan: such a run made no point and holds no slot.
        logger.info("ended run had no valid request", extra={"execution": event.detail.execution_arn})
        return StoppedRunRelease(run_id=None, status=event.detail.status, released=[])
    run = run_id(request.tier, normalise_time(request.scheduled_at or event.detail.start_date))
    stopped_runs.mark(deps.store, run, now=deps.now(), status=event.detail.status)
    config = deps.config()
    regions = sorted({t.region for p in config.policies.values() for t in p.dr_regions})
    types = sorted(ENTRIES)  # a type that cannot copy has no gate: reading it finds nothing
    released: list[str] = []
    for region in regions:
        for resource_type in types:
            gate = copy_gate.gate_id(region, resource_type)
            for holder in sorted(copy_gate.read(deps.store, gate).holders):
                if run_of(holder) not in (run, None):
                    continue  # another run's point (None: a catch-up copy, its record tells)
                copy = deps.store.get(holder)
                if copy is None or copy.run_id != run or copy.status.terminal:
                    continue
                limit = copy_slots.copy_limit(config, resource_type)
                slot = copy_slots.CopySlot(gate=gate, holder=holder, limit=limit)
                # The run's copies waiting in line are passed over without waking: their tokens
                # are dead on AWS (and locally moto would still resume its stopped children).
                copy_slots.release(slot, deps, stopped=lambda waiting: run_of(waiting) == run)
                _record(deps, holder, run, event)
                released.append(holder)
    metrics.add_metric(name="StoppedRunSlotsReleased", unit=MetricUnit.Count, value=len(released))
    logger.info("stopped run's copy slots released", extra={"run_id": run, "released": len(released)})
    return StoppedRunRelease(run_id=run, status=event.detail.status, released=released)


def _record(deps: Deps, copy: str, run: str, event: BackupRunEnded) -> None:
    cause = (
        f"backup run {run} ended {event.detail.status} ({event.detail.execution_arn}) before this "
        "copy was validated; its copy slot was handed back"
    )
    with suppress(IllegalStatusTransition):  # finished in the meantime: its own record stands
        deps.store.transition(
            copy, OperationStatus.FAILED, detail="run stopped", error=RUN_STOPPED, cause=cause
        )
