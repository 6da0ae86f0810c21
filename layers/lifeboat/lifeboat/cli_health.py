"""``lifeboat health``: the live RPO table, from the emulated account or a deployed stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from lifeboat.domain.health import REPLICA_LAG_TARGET_SECONDS, HealthReport, format_seconds

console = Console()
if not console.is_terminal:
    console = Console(width=180)


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
    report = _local(resource) if local else _deployed(resource, stack, region)
    from lifeboat.local.health_demo import health_table

    console.print(health_table(report, f"Live RPO at {report.checked_at:%Y-%m-%d %H:%M}Z"))
    for skipped in report.skipped:
        console.print(f"  [dim]not monitored[/] {skipped.resource_arn.rsplit(':', 1)[-1]}: {skipped.reason}")
    breaches = report.breaches
    if breaches:
        console.print(
            f"[red]{len(breaches)} resource(s) over their RPO target:[/] "
            + ", ".join(h.name for h in breaches)
        )
    else:
        console.print(f"[green]all {len(report.resources)} monitored resources within their RPO target[/]")
    replicas = [(h, r) for h in report.resources for r in h.replicas_over_target]
    if replicas:
        console.print(
            f"[red]{len(replicas)} read replica(s) over the {format_seconds(REPLICA_LAG_TARGET_SECONDS)} "
            "lag target or of unknown lag:[/] "
            + "; ".join(f"{r.name} of {h.name}: {r.describe}" for h, r in replicas)
        )
    overdue = [h.name for h in report.resources if h.drill.overdue]
    if overdue:
        console.print("[red]no restore drill passed within the policy's maxAgeDays:[/] " + ", ".join(overdue))
    raise typer.Exit(1 if breaches or replicas or overdue else 0)


def _local(resources: list[str] | None) -> HealthReport:
    from lifeboat.local.fleet import seed_demo_fleet
    from lifeboat.local.health_demo import (
        DEMO_REPLICA,
        EMULATED_REPLICA_LAG_SECONDS,
        MONITOR,
        add_demo_replica,
    )
    from lifeboat.local.runtime import LocalCloud

    with LocalCloud() as cloud:
        fleet = seed_demo_fleet(cloud)
        console.print(
            f"Emulated account: {len(fleet.instances)} demo databases; running a daily backup first"
        )
        cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
        add_demo_replica(cloud, fleet)
        console.print(
            f"[dim]A read replica of orders-db in {DEMO_REPLICA[1]}; moto has no ReplicaLag, so local mode "
            f"publishes {EMULATED_REPLICA_LAG_SECONDS:g} s for it.[/]"
        )
        event = {"resourceArns": resources} if resources else {}
        return HealthReport.model_validate(cloud.invoke_function(MONITOR, event))


def _deployed(resources: list[str] | None, stack: str, region: str | None) -> HealthReport:
    """Invoke the stack's RPO monitor (the same code as its schedule runs) and read its report."""
    from lifeboat.deployed import DeployedStack

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
