"""``lifeboat drill``: restore drills (prove recovery points restore, then tear down) and their
emergency stop."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from lifeboat.cli.console import console, refuse
from lifeboat.cli.local_mode import local_mode
from lifeboat.cli.outcomes import execution_cause
from lifeboat.cli.restore import DEMO_RESOURCE, print_operation, wait_for
from lifeboat.contracts.restore import DrillRunRequest
from lifeboat.state.store import StateStore

drill_app = typer.Typer(help="Restore drills: prove recovery points restore, then tear down.")


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
    try:
        request = DrillRunRequest(resources=resource, trigger="manual")
    except ValidationError as exc:
        raise typer.Exit(refuse("drill arguments", exc)) from None
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
    described = wait_for(sfn, execution)
    store = StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb"))
    return print_drills(described, store, deployed.client("s3"), console)


def print_drills(described: dict[str, Any], store: StateStore, s3: Any, console: Console) -> int:
    """Each drill's operation and one verdict; the results and the skipped resources are read from
    the stack's bucket (``s3``: a client of the stack's region), where the run wrote them."""
    from lifeboat.contracts.restore import DrillRunSummary
    from lifeboat.service import drill_run

    if described["status"] != "SUCCEEDED":
        console.print(
            f"[red]drill run {described['status']}[/]: {described.get('error')} {execution_cause(described)}"
        )
        return 1
    summary = DrillRunSummary.model_validate_json(described["output"])
    results = drill_run.results(summary, s3)
    failed = 0
    for result in results:
        operation = store.get(result["operationId"])
        if operation is None:
            console.print(f"[red]no operation {result['operationId']}[/]")
            failed += 1
            continue
        print_operation(operation, console)
        failed += operation.status.value != "SUCCEEDED"
    for skipped in drill_run.skipped(summary, s3):
        console.print(f"  [dim]skipped[/] {skipped.arn.rsplit(':', 1)[-1]}: {skipped.reason}")
    console.print(f"Drill run {summary.run_id}: {len(results) - failed}/{len(results)} passed")
    return 1 if failed or not results else 0


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
