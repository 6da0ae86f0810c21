"""``lifeboat cleanup``: the retention plan (dry run) or a cleanup run, locally or on a stack."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from lifeboat.cli.console import console, refuse
from lifeboat.cli.local_mode import local_mode
from lifeboat.contracts.cleanup import CleanupPlanRequest, CleanupRequest, FleetPlan
from lifeboat.domain.retention import Action, Decision, Rule

_STYLE = {Action.KEEP: "green", Action.DELETE: "red", Action.DEFER: "yellow"}


def cleanup(
    *,
    dry_run: Annotated[bool, typer.Option(help="Print the plan and change nothing.")] = False,
    local: Annotated[bool, typer.Option(help="Run on the emulated account with the demo fleet.")] = False,
    resource: Annotated[list[str] | None, typer.Option(help="Only this ARN (repeatable).")] = None,
    max_deletions: Annotated[int | None, typer.Option(help="Lower the per-run deletion cap.")] = None,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Delete expired recovery points within the guards, or print the plan (--dry-run)."""
    try:
        request = CleanupRequest(dry_run=dry_run, max_deletions=max_deletions, resources=resource)
    except ValidationError as exc:
        raise typer.Exit(refuse("cleanup arguments", exc)) from None
    raise typer.Exit(
        local_mode().cleanup(request) if local else _cleanup_deployed(request, stack, region, console)
    )


def local_plan(deps: Any, request: CleanupRequest) -> FleetPlan:
    """The dry-run plan, computed by the same code the workflow's plan step runs."""
    from lifeboat.service import cleanup as service

    return service.fleet_plan(
        CleanupPlanRequest(request=request, execution_start_time=datetime.now(UTC)), deps
    )


def _cleanup_deployed(request: CleanupRequest, stack: str, region: str | None, console: Console) -> int:
    from lifeboat.aws.config_source import CONFIG_PARAMETER_ENV, ConfigSource
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.service.deps import Deps
    from lifeboat.state.store import StateStore

    deployed = DeployedStack.find(stack, region)
    if request.dry_run:
        # Read-only: the operator's credentials read the state table and the config directly.
        os.environ[CONFIG_PARAMETER_ENV] = deployed.parameters.get("ConfigParameterName", "/lifeboat/config")
        deps = Deps(
            region=deployed.region,
            clients=deployed.clients,
            store=StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")),
            config=ConfigSource(deployed.clients, deployed.region),
        )
        print_plan(local_plan(deps, request), console)
        return 0
    sfn = deployed.client("stepfunctions")
    payload = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["CleanupStateMachineArn"], input=json.dumps(payload)
    )["executionArn"]
    console.print(f"Started {execution}")
    while (run := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(10)
    return print_run(dict(run), console)


def _age(decision: Decision, now: datetime) -> str:
    return f"{(now - decision.point.taken_at).days}d"


def print_plan(plan: FleetPlan, console: Console) -> None:
    """One row per recovery point, one column per region: the action and the rule that decided it."""
    for resource in plan.resources:
        regions = sorted({d.point.region for d in resource.decisions})
        by_point: dict[str, dict[str, Decision]] = {}
        for decision in resource.decisions:
            by_point.setdefault(decision.point.recovery_point_id, {})[decision.point.region] = decision
        name = resource.arn.rsplit(":", 1)[-1]
        deleted = " (source deleted)" if resource.source_deleted else ""
        table = Table(title=f"{name}{deleted} - policy {resource.policy}", title_justify="left")
        for column in ("recovery point", "tier", "age", *regions):
            table.add_column(column, overflow="fold")
        for point_id, in_regions in sorted(
            by_point.items(), key=lambda item: next(iter(item[1].values())).point.taken_at, reverse=True
        ):
            first = next(iter(in_regions.values()))
            cells = [_cell(in_regions.get(region)) for region in regions]
            tier = first.point.tier.value if first.point.tier else "-"
            table.add_row(point_id, tier, _age(first, plan.now), *cells)
        if not resource.decisions:
            console.print(f"{name}: no recovery points recorded")
            continue
        console.print(table)
    for skipped in plan.skipped:
        console.print(f"  [dim]skipped[/] {skipped.arn.rsplit(':', 1)[-1]}: {skipped.reason}")
    decisions = [d for r in plan.resources for d in r.decisions]
    counts = {action: sum(1 for d in decisions if d.action is action) for action in Action}
    console.print(
        f"Dry run {plan.run_id}: {counts[Action.DELETE]} to delete, {counts[Action.DEFER]} deferred "
        f"(cap {plan.max_deletions} per run), {counts[Action.KEEP]} kept. Nothing was changed."
    )
    _legend(decisions, console)


def _cell(decision: Decision | None) -> str:
    if decision is None:
        return "-"
    until = ""
    if decision.rule is Rule.WITHIN_RETENTION and "until " in decision.reason:
        until = " " + decision.reason.rsplit("until ", 1)[1].rstrip(")")
    return f"[{_STYLE[decision.action]}]{decision.action.value}[/] {decision.rule.value}{until}"


def _legend(decisions: list[Decision], console: Console) -> None:
    """Each rule that decided something, with one full reason as the example."""
    seen: dict[Rule, str] = {}
    for decision in decisions:
        seen.setdefault(decision.rule, decision.reason)
    for rule, reason in seen.items():
        console.print(f"  [bold]{rule.value}[/]: e.g. {reason}")


def print_run(described: dict[str, Any], console: Console) -> int:
    if described["status"] != "SUCCEEDED":
        console.print(
            f"[red]Cleanup run {described['status']}[/]: {described.get('error')} {described.get('cause')}"
        )
        return 1
    output = json.loads(described["output"])
    if output.get("dryRun"):
        console.print_json(data=output)
        return 0
    for refusal in output["refusals"]:
        console.print(
            f"  [red]refused[/] {refusal['recoveryPointId']} in {refusal['region']}: {refusal['detail']}"
        )
    if output["refused"] > len(output["refusals"]):
        console.print(f"  [red]... and {output['refused'] - len(output['refusals'])} more refused[/]")
    results = output["results"]
    console.print(
        f"Cleanup {output['runId']}: {output['deleted']} deleted, {output['alreadyDeleted']} already gone, "
        f"{output['refused']} refused; backlog {output['deferred']} (budget {output['maxDeletions']}, "
        f"the fleet expires about {output['dailyExpiry']} a day); kept by rule: {output['keptByRule']}. "
        f"Every result: s3://{results['bucket']}/{results['key']}"
    )
    return 0
