"""The end of a failover: each resource's FAILOVER operation closed with its measured RTO (the
execution's start to its new primary serving under the plan's DNS names) and data age, and one
summary notification for the operator."""

from __future__ import annotations

from datetime import datetime

from lifeboat.contracts.backup import Notification
from lifeboat.contracts.failover import FailoverRecordRequest, FailoverRecordResult, ItemOutcome
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.operations import OperationStatus
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps


def record(request: FailoverRecordRequest, deps: Deps) -> FailoverRecordResult:
    plan = request.plan
    now = deps.now()
    rto = (now - plan.started_at).total_seconds()
    dns_failed = request.dns_error is not None
    by_resource = {o.item.resource_arn: o for o in request.outcomes}
    moved = {c.record: c.value for c in request.dns.changes} if request.dns else {}
    lines = []
    all_ok = not dns_failed
    for item in plan.items:
        outcome = by_resource.get(item.resource_arn)
        ok = outcome is not None and outcome.status is OperationStatus.SUCCEEDED
        all_ok = all_ok and ok
        records = [r.fqdn for r in plan.dns_records if r.resource_arn == item.resource_arn]
        details = {
            "mechanism": item.mechanism.value,
            "newPrimary": item.target_identifier,
            "endpoint": outcome.endpoint if outcome else None,
            "rtoSeconds": round(rto, 1),
            "primaryReadySeconds": _seconds_to_ready(outcome, plan.started_at),
            "dataAgeSeconds": item.data_age_seconds,
            "dnsRecords": {r: moved.get(r) for r in records},
        }
        error = _error_of(outcome, dns_failed, request)
        status = OperationStatus.SUCCEEDED if ok and not dns_failed else OperationStatus.FAILED
        deps.store.transition(
            item.operation_id,
            status,
            detail="failed over" if status is OperationStatus.SUCCEEDED else "failover failed",
            error=error[0] if error else None,
            cause=error[1] if error else None,
            details={k: v for k, v in details.items() if v is not None},
        )
        target = f"{item.target_identifier} by {item.mechanism.value}"
        lines.append(_line(item.resource_arn, outcome, target, item.data_age_seconds, error))
    status = OperationStatus.SUCCEEDED if all_ok else OperationStatus.FAILED
    metrics.add_metric(name="FailoverSeconds", unit=MetricUnit.Seconds, value=rto)
    logger.info(
        "failover recorded", extra={"plan": plan.plan, "region": plan.region, "status": status, "rto": rto}
    )
    verdict = "DONE" if all_ok else "INCOMPLETE"
    dns_lines = [f"  {name} -> {value}" for name, value in sorted(moved.items())]
    if request.dns and request.dns.unchanged:
        dns_lines += [
            f"  {name}: unchanged (its resource did not fail over)" for name in request.dns.unchanged
        ]
    if request.dns_error:
        dns_lines.append(f"  DNS switch FAILED: {request.dns_error.error}: {request.dns_error.cause}")
    message = "\n".join(
        [
            f"Failover of plan {plan.plan} to {plan.region}: {verdict}: RTO {rto:.1f} s "
            f"(request to every DNS name serving its new primary; execution {plan.execution_id}).",
            "",
            "Resources:",
            *lines,
            "",
            "DNS:",
            *(dns_lines or ["  no records in the plan"]),
            "",
            "The old primaries are left as they are: nothing was deleted. Each resource's FAILOVER "
            "operation in the state table holds its RTO, data age and new endpoint.",
        ]
    )
    subject = f"Lifeboat failover of {plan.plan} to {plan.region}: {verdict}"[:100]
    return FailoverRecordResult(
        status=status, rto_seconds=round(rto, 1), notification=Notification(subject=subject, message=message)
    )


def _seconds_to_ready(outcome: ItemOutcome | None, started_at: datetime) -> float | None:
    """The execution's start to this resource's new primary being up (DNS not yet moved)."""
    if outcome is None or outcome.ready_at is None:
        return None
    return round((outcome.ready_at - started_at).total_seconds(), 1)


def _error_of(
    outcome: ItemOutcome | None, dns_failed: bool, request: FailoverRecordRequest
) -> tuple[str, str] | None:
    if outcome is None:
        return ("NoOutcome", "the workflow returned no outcome for this resource")
    if outcome.error is not None:
        return (outcome.error.error, outcome.error.cause or "")
    if dns_failed and request.dns_error is not None:
        return (request.dns_error.error, f"DNS switch failed: {request.dns_error.cause}")
    return None


def _line(
    arn: str, outcome: ItemOutcome | None, target: str, age: float | None, error: tuple[str, str] | None
) -> str:
    if outcome is None or outcome.status is not OperationStatus.SUCCEEDED:
        why = f"{error[0]}: {error[1]}" if error else "failed"
        return f"  FAILED    {_name(arn)}: {why}"
    data = "unknown" if age is None else f"{age:.0f} s"
    return f"  SUCCEEDED {_name(arn)} -> {target}, data age {data}"


def _name(arn: str) -> str:
    ref = ResourceRef.parse(arn)
    return f"{ref.name} ({ref.region})"
