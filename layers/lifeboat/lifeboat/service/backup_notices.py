"""What a backup's notification tells people: which regions hold a new recovery point, which
copies are missing and why. Worded from the state table's facts, never guessed."""

from __future__ import annotations

from lifeboat.contracts.backup import Notification, OutcomeState
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import backup_operation_id
from lifeboat.domain.operations import Operation
from lifeboat.state.resource_breakers import ResourceBreaker

__all__ = ["copy_failure", "failure_notification", "partial_notification"]


def copy_failure(copy: Operation | None) -> str:
    """Why a region's copy is missing, in a few words."""
    if copy is None:
        return "never started"
    if copy.error:
        return f"{copy.error}: {copy.cause}" if copy.cause else copy.error
    return f"still {copy.status.value}"


def _record(state: OutcomeState, point: str) -> list[str]:
    """Where the run and the point are recorded: the lines every backup notification ends with."""
    return [
        f"Policy: {state.resource.policy}    Run: {state.run_id}",
        f"Recovery point: {point}",
        f"State table operation: {backup_operation_id(point)}",
    ]


def _subject(text: str) -> str:
    return text[:100]  # SNS subjects are at most 100 characters


def failure_notification(
    state: OutcomeState,
    point: str,
    error: str,
    cause: str | None,
    *,
    source_point_valid: bool,
    breaker: ResourceBreaker | None = None,
) -> Notification:
    """A failed backup: whether its source point exists after all, the error, and whether this
    failure opened the resource's circuit (scheduled runs skip it from now on)."""
    resource, tier = state.resource, state.tier.value
    ref = ResourceRef.parse(resource.arn)
    consequence = (
        f"A validated recovery point exists in {ref.region}, but its backup did not complete."
        if source_point_valid
        else "The resource has NO new recovery point from this run; its RPO clock keeps running."
    )
    circuit = []
    if breaker is not None and breaker.open:
        circuit = [
            f"CIRCUIT_OPEN: {breaker.describe()}. Scheduled runs skip {ref.name} from now on, so this "
            "failure stops paging every schedule; its RPO keeps running and health reports it.",
            f"Fix the cause, then: lifeboat backup run --resource {resource.arn} (a success closes the "
            f"circuit), or lifeboat backup reset --resource {resource.arn}.",
        ]
    flag = " CIRCUIT_OPEN" if circuit else ""
    return Notification(
        subject=_subject(f"Lifeboat: {tier} backup FAILED{flag} for {ref.name} ({ref.region})"),
        message="\n".join(
            [
                f"The {tier} backup of {resource.arn} failed.",
                f"Error: {error}",
                f"Cause: {cause or 'not given'}",
                *_record(state, point),
                consequence,
                *circuit,
            ]
        ),
    )


def partial_notification(
    state: OutcomeState, point: str, healthy: list[str], missing: dict[str, str]
) -> Notification:
    """A backup with a valid source point and some DR copies missing: where the point is, and
    for each missing region why, so nobody reads "FAILED" as "no recovery point"."""
    resource, tier = state.resource, state.tier.value
    ref = ResourceRef.parse(resource.arn)
    return Notification(
        subject=_subject(f"Lifeboat: {tier} backup PARTIAL for {ref.name}: no copy in {', '.join(missing)}"),
        message="\n".join(
            [
                f"The {tier} backup of {resource.arn} made a new recovery point in {' and '.join(healthy)}.",
                *(f"The copy to {region} failed: {reason}" for region, reason in missing.items()),
                *_record(state, point),
                "The RPO clock of each missing region keeps running until a copy reaches it.",
            ]
        ),
    )
