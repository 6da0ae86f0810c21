"""``lifeboat backup run`` and ``lifeboat demo``: a backup run followed live, locally or on a stack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lifeboat.cli.console import console, refuse
from lifeboat.cli.local_mode import local_mode
from lifeboat.cli.outcomes import CopyOutcome, ResourceOutcome, execution_cause, run_outcomes
from lifeboat.contracts.backup import Plan, PlanSummary, RunRequest
from lifeboat.domain.policy import Tier
from lifeboat.service import run_plan

backup_app = typer.Typer(help="Backup runs.", no_args_is_help=True)


def demo(
    time_scale: Annotated[
        float, typer.Option(min=1e-6, max=1.0, help="Factor applied to Wait/Retry intervals (1 = real time).")
    ] = 0.001,
) -> None:
    """Run a real daily backup cycle of a demo fleet on an emulated AWS account (no AWS needed)."""
    raise typer.Exit(local_mode().demo(time_scale))


@backup_app.command("run")
def backup_run(
    tier: Annotated[Tier, typer.Option(help="Retention tier of this run.")] = Tier.DAILY,
    local: Annotated[bool, typer.Option(help="Run on the emulated account with the demo fleet.")] = False,
    resource: Annotated[list[str] | None, typer.Option(help="Back up only this ARN (repeatable).")] = None,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Start a backup run now and wait for every resource's outcome."""
    try:
        RunRequest(tier=tier, resources=resource)
    except ValidationError as exc:
        raise typer.Exit(refuse("backup arguments", exc)) from None
    if local:
        raise typer.Exit(local_mode().backup(tier, resource))
    _run_deployed(tier, resource, stack, region)


def follow_run(cloud: Any, execution: str, config: dict[str, Any]) -> None:
    """Per-resource progress bars driven by the state table while the execution runs."""
    regions = {name: len(policy.get("drRegions", [])) for name, policy in config["policies"].items()}
    bars: dict[str, TaskID] = {}
    sfn = cloud.client("stepfunctions")
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        while True:
            running = sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
            items = cloud.operations()
            copies_done: dict[str, int] = {}
            for item in items:
                if item["type"] == "COPY" and item["status"] == "SUCCEEDED":
                    copies_done[item["recoveryPointId"]] = copies_done.get(item["recoveryPointId"], 0) + 1
            for item in (i for i in items if i["type"] == "BACKUP"):
                name = item["resourceArn"].rsplit(":", 1)[-1]
                total = 4 + regions.get(item.get("policy", ""), 0)
                if name not in bars:
                    bars[name] = progress.add_task(name, total=total, step="preflight")
                done, step = _progress_of(item, copies_done.get(item["recoveryPointId"], 0), total)
                progress.update(bars[name], completed=done, step=step)
            if not running:
                return
            time.sleep(0.1)


def _progress_of(item: dict[str, Any], copies: int, total: int) -> tuple[int, str]:
    status = item["status"]
    if status == "SUCCEEDED":
        return total, "[green]SUCCEEDED"
    if status == "FAILED":
        return total, f"[red]FAILED: {item.get('error')}"
    if status == "PENDING":
        return 1, "preflight"
    validated = any(k.startswith("validation_") for k in item.get("details", {}))
    if not validated:
        return 2, "snapshot"
    return 3 + copies, f"copies {copies}/{total - 4}"


def finish_run(described: dict[str, Any], store: Any, s3: Any, elapsed: float) -> int:
    """The run's table and one verdict; the exit code says the same as the verdict. The plan is
    read from the stack's bucket (``s3``: a client of the stack's region), where the run wrote it."""
    if described["status"] != "SUCCEEDED":
        error = described.get("error")
        cause = execution_cause(described)
        console.print(f"[red]Backup run {described['status']}[/] ({error}): {cause}", soft_wrap=True)
        return 2 if error == "InvalidInput" else 1
    plan = run_plan.read(PlanSummary.model_validate_json(described["output"]), s3)
    outcomes = run_outcomes(store, plan)
    console.print(_table(plan, outcomes))
    for skipped in plan.skipped:
        console.print(f"  [dim]skipped[/] {skipped.arn.rsplit(':', 1)[-1]}: {skipped.reason}")
    failed = [o for o in outcomes if o.status != "SUCCEEDED"]
    for outcome in failed:
        colour = "yellow" if outcome.status == "PARTIAL" else "red"
        console.print(f"  [{colour}]{outcome.name}[/] {outcome.status}: {outcome.error}: {outcome.cause}")
    partial = sum(1 for o in failed if o.status == "PARTIAL")
    if not outcomes:
        verdict = "[red]nothing was backed up (every resource was skipped, see above)"
    elif failed:
        verdict = (
            f"[red]{len(failed) - partial} resource(s) without a new recovery point, {partial} PARTIAL "
            "(a new point in the source region, some DR copies missing)"
        )
    else:
        verdict = "[green]every protected resource SUCCEEDED"
    console.print(f"Run {plan.run_id}: {len(outcomes)} resources, {verdict}[/] in {elapsed:.1f}s")
    return 0 if outcomes and not failed else 1


def _short_key(key: str | None) -> str:
    return "unencrypted" if not key else "key " + key.rsplit("/", 1)[-1][:8]


def _copy_cell(copy: CopyOutcome) -> str:
    status = "[green]ok" if copy.status == "SUCCEEDED" else f"[red]{copy.status}"
    return f"{status}[/] {_short_key(copy.kms_key_id)}"


def _table(plan: Plan, outcomes: list[ResourceOutcome]) -> Table:
    regions = sorted({c.region for o in outcomes for c in o.copies})
    table = Table(title=f"Backup run {plan.run_id}")
    columns = (
        "resource",
        "policy",
        "snapshot id",
        "validation",
        *(f"copy {r}" for r in regions),
        "duration",
        "state table",
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for o in outcomes:
        by_region = {c.region: c for c in o.copies}
        cells = []
        for region in regions:
            copy = by_region.get(region)
            cells.append("-" if copy is None else _copy_cell(copy))
        colour = {"SUCCEEDED": "green", "PARTIAL": "yellow"}.get(o.status, "red")
        table.add_row(
            o.name,
            o.policy,
            o.recovery_point_id,
            o.validation,
            *cells,
            f"{o.duration_seconds:.2f}s" if o.duration_seconds is not None else "-",
            f"[{colour}]{o.status}[/]",
        )
    return table


def _run_deployed(tier: Tier, resources: list[str] | None, stack: str, region: str | None) -> None:
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.state.store import StateStore

    deployed = DeployedStack.find(stack, region)
    payload: dict[str, Any] = {
        "tier": tier.value,
        "trigger": "manual",
        "scheduledAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if resources:
        payload["resources"] = resources
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["BackupStateMachineArn"], input=json.dumps(payload)
    )["executionArn"]
    console.print(f"Started {execution}")
    started = time.monotonic()
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(10)
    store = StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb"))
    raise typer.Exit(finish_run(dict(described), store, deployed.client("s3"), time.monotonic() - started))


@backup_app.command("reset")
def backup_reset(
    resource: Annotated[str, typer.Option(help="ARN of the resource whose circuit to close.")],
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Close a resource's backup circuit (CIRCUIT_OPEN after N failed runs in a row): scheduled
    runs back it up again, counting failures from zero."""
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.state import resource_breakers
    from lifeboat.state.store import StateStore

    try:
        RunRequest(tier=Tier.DAILY, resources=[resource])
    except ValidationError as exc:
        raise typer.Exit(refuse("backup reset arguments", exc)) from None
    deployed = DeployedStack.find(stack, region)
    store = StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb"))
    failing = resource_breakers.failing_resources(store).get(resource)
    if failing is None:
        console.print(f"{resource} has no failed backups in a row: nothing to reset")
        raise typer.Exit(0)
    resource_breakers.close(store, resource)
    console.print(f"[green]reset[/] {resource}: was {failing.status} after {failing.describe()}")
