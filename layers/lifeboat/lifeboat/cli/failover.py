"""``lifeboat failover``: move a failover plan's resources to another region, or (``--dry-run``)
say whether they could move and how, changing nothing."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from lifeboat.cli.console import console, request_or_refusal
from lifeboat.cli.local_mode import local_mode
from lifeboat.cli.outcomes import execution_cause
from lifeboat.cli.restore import wait_for
from lifeboat.contracts.failover import FailoverRequest

__all__ = ["failover", "failover_request", "print_failover", "step_outputs"]


def failover(
    *,
    to: Annotated[str, typer.Option("--to", help="The region to fail over to.")],
    plan: Annotated[
        str | None, typer.Option(help="Failover plan of the config (default: the config's only one).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Check readiness and print the plan; change nothing.")
    ] = False,
    allow_data_loss: Annotated[
        bool,
        typer.Option(help="Promote a replica whose lag is over the plan's limit or unknown (unplanned)."),
    ] = False,
    local: Annotated[bool, typer.Option(help="Run on the emulated account with the demo fleet.")] = False,
    stack: Annotated[str, typer.Option(help="Deployed stack name.")] = "lifeboat-dev",
    region: Annotated[str | None, typer.Option(help="Region of the deployed stack.")] = None,
) -> None:
    """Fail a plan's resources over to a region: readiness first, then promote each replica (or
    restore the newest copy), move the plan's DNS records, record RTO and data age."""
    payload = {
        "plan": plan,
        "targetRegion": to,
        "dryRun": dry_run,
        "allowDataLoss": allow_data_loss,
        "requestedBy": "lifeboat-cli",
    }
    request = failover_request(payload)
    if request is None:
        raise typer.Exit(2)
    if local:
        raise typer.Exit(local_mode().failover(request))
    raise typer.Exit(_failover_deployed(request, stack, region, console))


def failover_request(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Validate before starting anything: a bad request is reported here, not by a failed run."""
    return request_or_refusal(FailoverRequest, payload, "failover request")


def _failover_deployed(request: dict[str, Any], stack: str, region: str | None, console: Console) -> int:
    from lifeboat.cli.deployed import DeployedStack

    deployed = DeployedStack.find(stack, region)
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["FailoverStateMachineArn"], input=json.dumps(request)
    )["executionArn"]
    console.print(f"Started {execution}")
    described = wait_for(sfn, execution)
    return print_failover(described, step_outputs(sfn, execution), console)


def step_outputs(sfn: Any, execution: str) -> list[dict[str, Any]]:
    """What each Lambda step returned, newest first (a failed execution has no output of its own)."""
    outputs = []
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution, reverseOrder=True)
    for page in pages:
        for event in page["events"]:
            details = event.get("lambdaFunctionSucceededEventDetails") or event.get(
                "taskSucceededEventDetails"
            )
            if details and details.get("output"):
                try:
                    outputs.append(json.loads(details["output"]))
                except ValueError:
                    continue
    return outputs


def print_failover(described: dict[str, Any], step_outputs: list[dict[str, Any]], console: Console) -> int:
    """The readiness verdict of a dry run or a refused failover, or the failover's summary; exit
    0 only when the plan is ready (dry run) or every resource and record moved."""
    output = json.loads(described.get("output") or "{}")
    found = [output, *step_outputs]
    outcome = next((o for o in found if "rtoSeconds" in o and "notification" in o), None)
    readiness = next((o for o in found if "readiness" in o and "summary" in o), None)
    if outcome is not None:
        colour = "green" if outcome["status"] == "SUCCEEDED" else "red"
        console.print(f"[{colour}]{outcome['notification']['subject']}[/]")
        console.print(outcome["notification"]["message"], markup=False, highlight=False)
        return 0 if described["status"] == "SUCCEEDED" and outcome["status"] == "SUCCEEDED" else 1
    if readiness is not None:
        console.print(readiness["summary"], markup=False, highlight=False)
        if readiness["dryRun"]:
            console.print("[dim]Dry run: nothing was changed.[/]")
        else:
            console.print("[red]failover refused:[/] not ready; nothing was changed")
        return 0 if readiness["ready"] and described["status"] == "SUCCEEDED" else 1
    console.print(
        f"[red]failover {described['status']}[/] ({described.get('error')}): {execution_cause(described)}"
    )
    return 1
