"""``lifeboat restore``: start the restore workflow and show what it measured.

Locally (``--local``) the demo fleet is seeded with real PostgreSQL databases behind its RDS
instances and backed up first; against a stack the same state machine runs on AWS.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lifeboat.cli.console import console, request_or_refusal
from lifeboat.cli.local_mode import local_mode
from lifeboat.cli.outcomes import execution_cause
from lifeboat.contracts.restore import RestoreRequest
from lifeboat.domain.operations import Operation
from lifeboat.state.store import StateStore

DEMO_RESOURCE = "orders-db"
_DEMO_ARN = f"arn:aws:rds:us-east-1:123456789012:db:{DEMO_RESOURCE}"


def restore(
    *,
    resource: Annotated[
        str | None, typer.Option(help=f"ARN of the resource to recover (--local: default {DEMO_RESOURCE}).")
    ] = None,
    recovery_point: Annotated[str | None, typer.Option(help="Restore this recovery point id.")] = None,
    point_in_time: Annotated[
        datetime | None,
        typer.Option(
            help="Restore to this UTC time: the source's PITR window, or in --target-region the "
            "automated backups replicated there."
        ),
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
    # Checked before anything runs; --local fills in the demo's database after seeding it, so
    # an ARN of that shape stands in for it here.
    stand_in = {"resourceArn": payload["resourceArn"] or _DEMO_ARN} if local else {}
    request = restore_request(payload | stand_in, console)
    if request is None:
        raise typer.Exit(2)
    if local:
        raise typer.Exit(local_mode().restore(payload))
    raise typer.Exit(_restore_deployed(request, stack, region, console))


def restore_request(payload: dict[str, Any], console: Console) -> dict[str, Any] | None:
    """Validate before starting anything: a bad request is reported here, not by a failed run."""
    return request_or_refusal(RestoreRequest, payload, "restore request")


def _restore_deployed(request: dict[str, Any], stack: str, region: str | None, console: Console) -> int:
    from lifeboat.cli.deployed import DeployedStack

    deployed = DeployedStack.find(stack, region)
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["RestoreStateMachineArn"], input=json.dumps(request)
    )["executionArn"]
    console.print(f"Started {execution}")
    described = wait_for(sfn, execution)
    return print_restore(
        described, StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")), console
    )


def wait_for(sfn: Any, execution: str) -> dict[str, Any]:
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(15)
    return dict(described)


def print_restore(described: dict[str, Any], store: StateStore, console: Console) -> int:
    """The outcome, the recovery point and why, the measured RTO and each check."""
    output = json.loads(described.get("output") or "{}")
    if described["status"] != "SUCCEEDED" and "operationId" not in output:
        operation = _operation_of(described, store)
        if operation is None:
            console.print(
                f"[red]restore rejected[/] ({described.get('error')}): {execution_cause(described)}"
            )
            return 1
        output = {"operationId": operation.operation_id}
    operation = store.get(output["operationId"])
    if operation is None:
        console.print(
            f"[red]restore {described['status']}[/]: {described.get('error')} {execution_cause(described)}"
        )
        return 1
    print_operation(operation, console)
    return 0 if operation.status.value == "SUCCEEDED" else 1


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
