"""Cross-region copies admitted through the copy quota gate (``state/copy_gate.py``).

The backup workflow waits in ``AcquireCopySlot`` (a ``.waitForTaskToken`` task) until this
module sends its token: at once when the destination region has room for one more copy of the
type, otherwise when a copy ahead of it ends and hands it the slot. A copy holds its slot from
just before ``CopyDBSnapshot`` (or the type's copy call) until its validation sees it finished
or its failure is recorded, renewing the lease at each poll; a slot whose holder's execution
died returns when the lease ends: the next copy to reach the gate reclaims it, and every waiting
copy comes back to the gate each hour (its wait times out and rejoins its place in line).
So a large fleet's copies run as fast as AWS's quota lets them, and never hit it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from lifeboat.aws.task_tokens import TIMED_OUT, send_success
from lifeboat.contracts.backup import SlotAdmission, SlotRequest, StepRequest
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.ids import copy_operation_id, run_of
from lifeboat.errors import ConfigError
from lifeboat.observability import logger
from lifeboat.plugins import REGISTRY, plugin_class_for
from lifeboat.service.deps import Deps
from lifeboat.state import copy_gate, stopped_runs
from lifeboat.state.copy_gate import Ticket


@dataclass(frozen=True)
class CopySlot:
    gate: str
    holder: str
    limit: int


def copy_limit(config: PolicyConfig, resource_type: str) -> int:
    """Concurrent copies per destination region: the config's (a raised quota) or AWS's default."""
    return config.copy_quotas.get(resource_type, REGISTRY[resource_type].max_concurrent_copies)


def check_copy_quotas(config: PolicyConfig) -> None:
    """A raised quota named for a type Lifeboat does not know is a typo that would go unseen."""
    unknown = sorted(set(config.copy_quotas) - set(REGISTRY))
    if unknown:
        raise ConfigError(
            f"copyQuotas: unknown resource types {', '.join(unknown)}; known: {', '.join(REGISTRY)}"
        )


def slot_of(deps: Deps, resource_arn: str, point: str, region: str, *, catch_up: bool) -> CopySlot:
    resource_type = plugin_class_for(ResourceRef.parse(resource_arn)).resource_type
    return CopySlot(
        gate=copy_gate.gate_id(region, resource_type),
        holder=copy_operation_id(point, region, catch_up=catch_up),
        limit=copy_limit(deps.config(), resource_type),
    )


def acquire(slot: CopySlot, task_token: str, deps: Deps, *, again: bool = False) -> bool:
    """Enter the gate or queue; True when the copy may start now (its token is sent).
    ``again``: an earlier wait of this copy timed out (it keeps its place in line)."""
    admission = copy_gate.acquire(
        deps.store, slot.gate, slot.holder, task_token, limit=slot.limit, now=deps.now(), again=again
    )
    granted = list(admission.served)
    if admission.granted:
        granted.append(Ticket(number=-1, holder=slot.holder, token=task_token))
    _deliver(deps, slot, granted)
    logger.info(
        "copy slot",
        extra={
            "gate": slot.gate,
            "holder": slot.holder,
            "granted": admission.granted,
            "ticket": admission.ticket,
        },
    )
    return admission.granted


def admit(request: SlotRequest, deps: Deps) -> SlotAdmission:
    """The ``AcquireCopySlot`` step: the copy of this point to this DR region enters or waits."""
    slot = step_slot(request.step, deps)
    if slot is None:
        raise ValueError("a copy slot is for one DR region's copy")
    return SlotAdmission(granted=acquire(slot, request.task_token, deps, again=request.retry_count > 0))


def step_slot(step: StepRequest, deps: Deps) -> CopySlot | None:
    """The slot of a step's DR copy (None for a source-region step)."""
    if step.target is None:
        return None
    return slot_of(deps, step.resource.arn, step.point, step.target.region, catch_up=bool(step.catch_up))


def renew(slot: CopySlot, deps: Deps) -> None:
    """The copy is still running: keep its slot another lease."""
    if not copy_gate.renew(deps.store, slot.gate, slot.holder, now=deps.now()):
        logger.warning("copy slot lease lost", extra={"gate": slot.gate, "holder": slot.holder})


def _run_stopped(deps: Deps, holder: str) -> bool:
    """Whether the holder's run ended early: Step Functions answers a stopped execution's token
    as timed out, and that copy will not come back for its slot."""
    run = run_of(holder)
    return run is not None and stopped_runs.stopped(deps.store, run)


def _live(_: str) -> bool:
    """No holder is known to belong to a stopped run."""
    return False


def release(slot: CopySlot, deps: Deps, *, stopped: Callable[[str], bool] = _live) -> None:
    """The copy finished or failed: free its slot for the next in line (nothing if it held none).
    ``stopped``: holders known to belong to a run that was stopped, passed over without waking."""
    served = copy_gate.release(deps.store, slot.gate, slot.holder, limit=slot.limit, now=deps.now())
    _deliver(deps, slot, list(served), stopped)


def _deliver(
    deps: Deps, slot: CopySlot, tickets: list[Ticket], stopped: Callable[[str], bool] = _live
) -> None:
    """Wake each copy handed a slot. A copy whose execution ended gives its slot to the next; a
    copy whose wait just timed out keeps it: its state runs again at once, finds itself inside
    and copies (freeing the slot here could free it under that copy, one more than the quota).
    Step Functions answers a stopped execution's token as a timed-out one, so the copies of a
    run known to be stopped are passed over without asking."""
    if not tickets:
        return
    sfn = deps.clients("stepfunctions", deps.region)
    pending = deque(tickets)
    while pending:
        ticket = pending.popleft()
        if stopped(ticket.holder):
            gone: str | None = "its run was stopped"
        else:
            gone = send_success(sfn, ticket.token, {"gate": slot.gate}, f"copy {ticket.holder}")
        if gone is None:
            continue
        logger.info(
            "copy slot holder not waiting", extra={"gate": slot.gate, "holder": ticket.holder, "why": gone}
        )
        if gone != TIMED_OUT or _run_stopped(deps, ticket.holder):
            pending.extend(
                copy_gate.release(deps.store, slot.gate, ticket.holder, limit=slot.limit, now=deps.now())
            )
