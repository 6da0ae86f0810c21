"""``lifeboat health``: the live RPO table, from the emulated account or a deployed stack."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from lifeboat.cli.console import console, refuse
from lifeboat.cli.local_mode import local_mode
from lifeboat.domain.health import (
    REPLICA_LAG_TARGET_SECONDS,
    HealthReport,
    HealthStatus,
    RegionHealth,
    ReplicaStatus,
    ResourceHealth,
    format_minutes,
    format_seconds,
)
from lifeboat.domain.operations import OperationStatus
from lifeboat.service.health import HealthRequest


def health(
    local: Annotated[
        bool, typer.Option(help="Emulated account: seed the demo fleet, run a daily backup, then check.")
    ] = False,
    resource: Annotated[list[str] | None, typer.Option(help="Check only this ARN (repeatable).")] = None,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Live RPO per resource and region against its policy's target, read-replica lag against
    the 5-minute target, and restore drills (exit 1 when anything is over its target)."""
    try:
        HealthRequest(resource_arns=resource)
    except ValidationError as exc:
        raise typer.Exit(refuse("health arguments", exc)) from None
    report = local_mode().health(resource) if local else _deployed(resource, stack, region)
    console.print(health_table(report, f"Live RPO at {report.checked_at:%Y-%m-%d %H:%M}Z"))
    for skipped in report.skipped:
        console.print(f"  [dim]not monitored[/] {skipped.resource_arn.rsplit(':', 1)[-1]}: {skipped.reason}")
    # A resource asked about that is not monitored has no RPO at all: never a green verdict.
    unmonitored = [s.resource_arn for s in report.skipped if resource and s.resource_arn in resource]
    breaches = report.breaches
    if unmonitored:
        console.print(
            f"[red]{len(unmonitored)} resource(s) asked about are not monitored (see above):[/] "
            "tag them with the stack's policy tag (lifeboat:policy) to protect them"
        )
    if breaches:
        console.print(
            f"[red]{len(breaches)} resource(s) over their RPO target:[/] "
            + ", ".join(h.name for h in breaches)
        )
    elif not report.resources:
        console.print("[red]no resource is monitored: nothing here is within an RPO target[/]")
    else:
        console.print(f"[green]all {len(report.resources)} monitored resources within their RPO target[/]")
    replicas = [(h, r) for h in report.resources for r in h.replicas_over_target]
    if replicas:
        console.print(
            f"[red]{len(replicas)} read replica(s) over the {format_seconds(REPLICA_LAG_TARGET_SECONDS)} "
            "lag target or of unknown lag:[/] "
            + "; ".join(f"{r.name} of {h.name}: {r.describe}" for h, r in replicas)
        )
    for down, why in report.unreachable_regions.items():
        console.print(f"[red]DR region {down} {why}[/]", soft_wrap=True)
    for quota in report.snapshot_quotas:
        colour = "yellow" if quota.low else "dim"
        console.print(
            f"  [{colour}]manual snapshot quota {quota.region} ({quota.resource_type}): {quota.used} of "
            f"{quota.max} used, {quota.headroom} free"
            + (" - backups clean up first[/]" if quota.low else "[/]")
        )
    circuits = [h for h in report.resources if h.circuit_open]
    for h in circuits:
        console.print(
            f"[red]CIRCUIT_OPEN {h.name}: {h.circuit_open}; scheduled runs skip it[/] (lifeboat backup run "
            f"--resource {h.resource_arn} closes it if it succeeds; lifeboat backup reset clears it)",
            soft_wrap=True,
        )
    gaps = [h for h in report.resources if h.continuous_gaps]
    for h in gaps:
        console.print(
            f"[red]continuous protection of {h.name} ({h.policy}):[/] " + "; ".join(h.continuous_gaps),
            soft_wrap=True,
        )
    overdue = [h.name for h in report.resources if h.drill.overdue]
    if overdue:
        console.print("[red]no restore drill passed within the policy's maxAgeDays:[/] " + ", ".join(overdue))
    trouble = breaches or replicas or overdue or unmonitored or report.unreachable_regions or circuits or gaps
    raise typer.Exit(1 if trouble or not report.resources else 0)


def _deployed(resources: list[str] | None, stack: str, region: str | None) -> HealthReport:
    """Invoke the stack's RPO monitor (the same code as its schedule runs) and read its report."""
    from lifeboat.cli.deployed import DeployedStack

    deployed = DeployedStack.find(stack, region)
    payload = {"resourceArns": resources} if resources else {}
    answer = deployed.client("lambda").invoke(
        FunctionName=deployed.outputs["RpoMonitorFunctionName"], Payload=json.dumps(payload).encode()
    )
    body = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        console.print(f"[red]rpo_monitor failed[/]: {body.get('errorType')}: {body.get('errorMessage')}")
        raise typer.Exit(2)
    return HealthReport.model_validate(body)


def health_table(report: HealthReport, title: str) -> Table:
    """Resource x region: RPO age against the target, green within, red over; then each read
    replica's lag against the 5-minute target; and the resource's restore drills."""
    table = Table(title=title)
    for column in (
        "resource",
        "policy",
        "target",
        "region",
        "newest valid point / replica",
        "age",
        "copy / replica lag",
        "best RPO now",
        "status",
        "restore drills",
    ):
        table.add_column(column, overflow="fold")
    for health in report.resources:
        for i, region in enumerate(health.regions):
            colour = "green" if region.status is HealthStatus.OK else "red"
            table.add_row(
                health.name if i == 0 else "",
                health.policy if i == 0 else "",
                format_minutes(health.rpo_minutes) if i == 0 else "",
                f"{region.region} ({region.role})",
                region.recovery_point_id or "-",
                format_minutes(region.age_minutes) if region.age_minutes is not None else "never",
                format_minutes(region.copy_lag_minutes) if region.copy_lag_minutes is not None else "-",
                _best_cell(region),
                f"[{colour}]{region.status.value}[/]",
                _drills_cell(health) if i == 0 else "",
            )
        for replica in health.replicas:
            ok = replica.status is ReplicaStatus.OK
            status = f"[{'green' if ok else 'red'}]{replica.status.value}[/]"
            if replica.note:
                status += f"\n[dim]{replica.note}[/]"
            table.add_row(
                "",
                "",
                "",
                f"{replica.region} ({_KINDS[replica.mechanism]})",
                replica.name,
                "-",
                format_seconds(replica.lag_seconds) if replica.lag_seconds is not None else "unknown",
                "",
                status,
                "",
            )
    return table


_KINDS = {"read-replica": "replica", "global-database": "global secondary"}


def _best_cell(region: RegionHealth) -> str:
    """'2s by read-replica': what gives the region its best RPO right now."""
    if region.best_rpo_seconds is None:
        return "-"
    return f"{format_seconds(region.best_rpo_seconds)} by {region.best_mechanism}"


def _drills_cell(health: ResourceHealth) -> str:
    """'passed 12d 03h ago' (red when overdue by the policy), and a later failure in red."""
    drill = health.drill
    colour = "red" if drill.overdue else "green"
    if drill.minutes_since_success is None:
        text = f"[{'red' if drill.overdue else 'dim'}]none passed in {drill.lookback_days}d[/]"
    else:
        text = f"[{colour}]passed {format_minutes(drill.minutes_since_success)} ago[/]"
    if drill.last_status is OperationStatus.FAILED and drill.last_at is not None:
        ago = format_minutes((health.checked_at - drill.last_at).total_seconds() / 60)
        text += f"\n[red]last drill FAILED {ago} ago[/]"
    return text
