"""``lifeboat restore`` and ``lifeboat drill``: start the workflows and show what they measured.

Locally (``--local``) the demo fleet is seeded with real PostgreSQL databases behind its RDS
instances and backed up first; against a stack the same state machines run on AWS.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from lifeboat.cli.console import console
from lifeboat.cli.local_mode import local_mode
from lifeboat.contracts.restore import DrillRunRequest, RestoreRequest
from lifeboat.domain.operations import Operation
from lifeboat.state.store import StateStore

drill_app = typer.Typer(help="Restore drills: prove recovery points restore, then tear down.")
DEMO_RESOURCE = "orders-db"


def restore(
    *,
    resource: Annotated[
        str | None, typer.Option(help=f"ARN of the resource to recover (--local: default {DEMO_RESOURCE}).")
    ] = None,
    recovery_point: Annotated[str | None, typer.Option(help="Restore this recovery point id.")] = None,
    point_in_time: Annotated[
        datetime | None, typer.Option(help="Restore the source to this UTC time (its PITR window).")
    ] = None,
    target_region: Annotated[
        str | None, typer.Option(help="Restore into this region (default: the source's).")
    ] = None,
    target_id: Annotated[str | None, typer.Option(help="Identifier of the new resource.")] = None,
    local: Annotated[bool, typer.Option(help="Run on the emulated account with the demo fleet.")] = False,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Restore a resource into a NEW resource (never over an existing one) and check it.

    Without --recovery-point or --point-in-time: the newest valid recovery point in the target region.
    """
    payload: dict[str, Any] = {
        "resourceArn": resource,
        "recoveryPointId": recovery_point,
        "pointInTime": point_in_time.replace(tzinfo=point_in_time.tzinfo or UTC) if point_in_time else None,
        "targetRegion": target_region,
        "targetIdentifier": target_id,
        "requestedBy": "lifeboat-cli",
    }
    if local:
        raise typer.Exit(local_mode().restore(payload))
    raise typer.Exit(_restore_deployed(payload, stack, region, console))


def restore_request(payload: dict[str, Any], console: Console) -> dict[str, Any] | None:
    """Validate before starting anything: a bad request is reported here, not by a failed run."""
    try:
        request = RestoreRequest.model_validate({k: v for k, v in payload.items() if v is not None})
    except ValidationError as exc:
        console.print(f"[red]invalid restore request:[/] {exc}")
        return None
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)


def _restore_deployed(payload: dict[str, Any], stack: str, region: str | None, console: Console) -> int:
    from lifeboat.cli.deployed import DeployedStack

    request = restore_request(payload, console)
    if request is None:
        return 2
    deployed = DeployedStack.find(stack, region)
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["RestoreStateMachineArn"], input=json.dumps(request)
    )["executionArn"]
    console.print(f"Started {execution}")
    described = _wait(sfn, execution)
    return print_restore(
        described, StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")), console
    )


def _wait(sfn: Any, execution: str) -> dict[str, Any]:
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(15)
    return dict(described)


def print_restore(described: dict[str, Any], store: StateStore, console: Console) -> int:
    """The outcome, the recovery point and why, the measured RTO and each check."""
    output = json.loads(described.get("output") or "{}")
    if described["status"] != "SUCCEEDED" and "operationId" not in output:
        operation = _operation_of(described, store)
        if operation is None:
            console.print(f"[red]restore rejected[/] ({described.get('error')}): {_cause(described)}")
            return 1
        output = {"operationId": operation.operation_id}
    operation = store.get(output["operationId"])
    if operation is None:
        console.print(f"[red]restore {described['status']}[/]: {described.get('error')} {_cause(described)}")
        return 1
    print_operation(operation, console)
    return 0 if operation.status.value == "SUCCEEDED" else 1


def _cause(described: dict[str, Any]) -> str:
    cause = described.get("cause") or ""
    try:
        return str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        return cause


def _operation_of(described: dict[str, Any], store: StateStore) -> Operation | None:
    """The operation a failed execution opened: its plan is in the execution's history input."""
    plan = json.loads(described.get("input") or "{}")
    arn = plan.get("resourceArn")
    if not arn:
        return None
    started = described["startDate"]
    for operation in store.history_of(arn):
        if operation.details.get("plan", {}).get("executionId") == described["executionArn"]:
            return operation
        if operation.created_at < started:
            break
    return None


def print_operation(operation: Operation, console: Console) -> None:
    details = operation.details
    plan = details.get("plan", {})
    colour = "green" if operation.status.value == "SUCCEEDED" else "red"
    kind = operation.type.value.lower()
    target = plan.get("spec", {}).get("targetId", "-")
    console.print(
        f"[bold]{kind} of {operation.resource_arn.rsplit(':', 1)[-1]}[/] into {target} ({operation.region}): "
        f"[{colour}]{operation.status.value}[/]"
    )
    console.print(
        f"  recovery point: {plan.get('recoveryPointId') or plan.get('pointInTime')} - {plan.get('reason')}"
    )
    timings = details.get("timings", {})
    if "rtoSeconds" in timings:
        parts = [
            f"{label} {timings[key]:.2f}s"
            for key, label in (
                ("planSeconds", "plan"),
                ("restoreSeconds", "restore"),
                ("checkSeconds", "checks"),
            )
            if key in timings
        ]
        rto = timings["rtoSeconds"]
        console.print(f"  measured RTO (request -> available and checked): {rto:.2f}s = {' + '.join(parts)}")
    if details.get("dataAgeSeconds") is not None:
        console.print(f"  data age (RPO as restored): {details['dataAgeSeconds']:.1f}s")
    if "teardownSeconds" in timings or details.get("tornDownAt"):
        console.print(f"  teardown: done at {details.get('tornDownAt', '-')}")
    if operation.error:
        console.print(f"  [red]{operation.error}[/]: {operation.cause}")
    if details.get("leftForCleanup"):
        left = details["leftForCleanup"]
        console.print(f"  [yellow]left for a person to inspect (tagged lifeboat:cleanup):[/] {left}")
    checks = details.get("checks") or []
    if checks:
        table = Table(title=f"{kind} checks", title_justify="left")
        for column in ("check", "expected", "actual", "result"):
            table.add_column(column, overflow="fold")
        for check in checks:
            result = "[green]pass" if check["passed"] else "[red]FAIL"
            table.add_row(check["name"], str(check["expected"]), str(check["actual"]), result)
        console.print(table)
    console.print(f"  state table operation: {operation.operation_id}")


@drill_app.callback(invoke_without_command=True)
def drill(
    ctx: typer.Context,
    resource: Annotated[
        list[str] | None,
        typer.Option(help="Drill this ARN (repeatable; default: policies with drills enabled)."),
    ] = None,
    local: Annotated[
        bool, typer.Option(help=f"Emulated account: drill {DEMO_RESOURCE} of the demo fleet.")
    ] = False,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Run a drill: restore each resource's newest valid DR copy, check it, measure RTO/RPO, tear down."""
    if ctx.invoked_subcommand is not None:
        return
    request = DrillRunRequest(resources=resource, trigger="manual")
    if local:
        raise typer.Exit(local_mode().drill(request))
    raise typer.Exit(_drill_deployed(request, stack, region, console))


def _drill_deployed(request: DrillRunRequest, stack: str, region: str | None, console: Console) -> int:
    from lifeboat.cli.deployed import DeployedStack

    deployed = DeployedStack.find(stack, region)
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["DrillStateMachineArn"],
        input=json.dumps(request.model_dump(mode="json", by_alias=True, exclude_none=True)),
    )["executionArn"]
    console.print(f"Started {execution} (stop it with: lifeboat drill stop --stack {stack})")
    described = _wait(sfn, execution)
    return print_drills(
        described, StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")), console
    )


def print_drills(described: dict[str, Any], store: StateStore, console: Console) -> int:
    if described["status"] != "SUCCEEDED":
        console.print(
            f"[red]drill run {described['status']}[/]: {described.get('error')} {_cause(described)}"
        )
        return 1
    output = json.loads(described["output"])
    failed = 0
    for result in output["results"]:
        operation = store.get(result["operationId"])
        if operation is None:
            console.print(f"[red]no operation {result['operationId']}[/]")
            failed += 1
            continue
        print_operation(operation, console)
        failed += operation.status.value != "SUCCEEDED"
    for skipped in output.get("skipped", []):
        console.print(f"  [dim]skipped[/] {skipped['arn'].rsplit(':', 1)[-1]}: {skipped['reason']}")
    console.print(
        f"Drill run {output['runId']}: {len(output['results']) - failed}/{len(output['results'])} passed"
    )
    return 1 if failed or not output["results"] else 0


@drill_app.command("stop")
def stop(
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Emergency stop: stop every running drill and tear down their temporary resources."""
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.service.drill_control import stop_drills

    deployed = DeployedStack.find(stack, region)
    lambda_client = deployed.client("lambda")

    def abort(payload: dict[str, Any]) -> dict[str, Any]:
        answer = lambda_client.invoke(
            FunctionName=deployed.outputs["TeardownFunctionName"], Payload=json.dumps(payload)
        )
        result: dict[str, Any] = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            raise RuntimeError(f"teardown failed: {result.get('errorType')}: {result.get('errorMessage')}")
        return result

    report = stop_drills(
        deployed.client("stepfunctions"),
        deployed.outputs["DrillStateMachineArn"],
        StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")),
        abort,
        sweep_after=30,
    )
    console.print(f"Stopped {len(report.executions_stopped)} drill execution(s)")
    for operation_id, state in report.teardowns.items():
        console.print(f"  {operation_id}: teardown {state}")
    raise typer.Exit(1 if any(state == "pending" for state in report.teardowns.values()) else 0)
