"""``lifeboat health``: the live RPO table, from the emulated account or a deployed stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from lifeboat.domain.health import HealthReport

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
    """Live RPO per resource and region against its policy's target (exit 1 on any breach)."""
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
    raise typer.Exit(1 if breaches else 0)


def _local(resources: list[str] | None) -> HealthReport:
    from lifeboat.local.fleet import seed_demo_fleet
    from lifeboat.local.health_demo import MONITOR
    from lifeboat.local.runtime import LocalCloud

    with LocalCloud() as cloud:
        fleet = seed_demo_fleet(cloud)
        console.print(
            f"Emulated account: {len(fleet.instances)} demo databases; running a daily backup first"
        )
        cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
        event = {"resourceArns": resources} if resources else {}
        return HealthReport.model_validate(cloud.invoke_function(MONITOR, event))


def _deployed(resources: list[str] | None, stack: str, region: str | None) -> HealthReport:
    """Invoke the stack's RPO monitor (the same code as its schedule runs) and read its report."""
    import boto3

    session = boto3.Session(region_name=region)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    }
    payload = {"resourceArns": resources} if resources else {}
    answer = session.client("lambda").invoke(
        FunctionName=outputs["RpoMonitorFunctionName"], Payload=json.dumps(payload).encode()
    )
    body = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        console.print(f"[red]rpo_monitor failed[/]: {body.get('errorType')}: {body.get('errorMessage')}")
        raise typer.Exit(2)
    return HealthReport.model_validate(body)
