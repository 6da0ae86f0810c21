"""``lifeboat experiment``: run a failover experiment of the config, approve (or refuse) a critical
one, and the emergency stop of every experiment and drill."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from lifeboat.cli.console import console, request_or_refusal
from lifeboat.cli.failover import step_outputs
from lifeboat.cli.outcomes import execution_cause
from lifeboat.contracts.experiments import ExperimentRequest
from lifeboat.state.store import StateStore

__all__ = ["experiment_app", "print_experiment"]

experiment_app = typer.Typer(help="Failover experiments under safety controls.", no_args_is_help=True)
STACK = Annotated[str, typer.Option(help="Deployed stack name.")]
REGION = Annotated[str | None, typer.Option(help="Region of the deployed stack.")]


@experiment_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Experiment of the config (experiments.<name>).")],
    local: Annotated[
        bool, typer.Option(help="Run on the emulated account with the demo fleet and its experiments.")
    ] = False,
    approve: Annotated[
        bool, typer.Option(help="--local: approve a critical experiment when it asks (else it is refused).")
    ] = False,
    stack: STACK = "lifeboat-dev",
    region: REGION = None,
) -> None:
    """Pre-checks, approval when critical, the fault, recovery watched under the stop alarms,
    rollback where one exists; exit 0 only when it PASSED."""
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.cli.restore import wait_for

    request = request_or_refusal(
        ExperimentRequest, {"experiment": name, "requestedBy": "lifeboat-cli"}, "experiment request"
    )
    if request is None:
        raise typer.Exit(2)
    if local:
        from lifeboat.cli.local_mode import local_mode

        raise typer.Exit(local_mode().experiment(request, approve=approve))
    deployed = DeployedStack.find(stack, region)
    sfn = deployed.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=deployed.outputs["ExperimentStateMachineArn"], input=json.dumps(request)
    )["executionArn"]
    console.print(f"Started {execution} (emergency stop: lifeboat experiment stop --all --stack {stack})")
    described = wait_for(sfn, execution)
    raise typer.Exit(print_experiment(described, step_outputs(sfn, execution), console))


def print_experiment(described: dict[str, Any], outputs: list[dict[str, Any]], out: Console) -> int:
    """The experiment's summary; exit 0 only when it PASSED."""
    result = next((o for o in outputs if "outcome" in o and "notification" in o), None)
    if result is None:
        out.print(f"[red]experiment {described['status']}[/]: {execution_cause(described)}")
        return 1
    colour = "green" if result["passed"] else "red"
    out.print(f"[{colour}]{result['notification']['subject']}[/]")
    out.print(result["notification"]["message"], markup=False, highlight=False)
    return 0 if result["passed"] else 1


@experiment_app.command("approve")
def approve(
    operation_id: Annotated[
        str, typer.Argument(help="The experiment's operation id (its notification names it).")
    ],
    deny: Annotated[bool, typer.Option(help="Refuse it: nothing is injected.")] = False,
    stack: STACK = "lifeboat-dev",
    region: REGION = None,
) -> None:
    """Let a critical experiment waiting for approval inject its fault (or refuse it)."""
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.service.experiment_control import answer_approval

    deployed = DeployedStack.find(stack, region)
    done = answer_approval(
        deployed.client("stepfunctions"),
        StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")),
        operation_id,
        approve=not deny,
        by=_caller(deployed),
    )
    console.print(done)


@experiment_app.command("stop")
def stop(
    all_: Annotated[bool, typer.Option("--all", help="Required: stop every experiment and drill.")] = False,
    stack: STACK = "lifeboat-dev",
    region: REGION = None,
) -> None:
    """Emergency stop: experiments waiting for approval end at once, running ones stop at their
    next step and roll back; every running drill is stopped and torn down."""
    from lifeboat.cli.deployed import DeployedStack
    from lifeboat.cli.drill import stop as stop_drills
    from lifeboat.service.experiment_control import stop_experiments

    if not all_:
        console.print("[red]lifeboat experiment stop:[/] add --all (it stops every experiment and drill)")
        raise typer.Exit(2)
    deployed = DeployedStack.find(stack, region)
    report = stop_experiments(
        deployed.client("stepfunctions"),
        StateStore(deployed.outputs["StateTableName"], deployed.client("dynamodb")),
        at=datetime.now(UTC),
        by=_caller(deployed),
    )
    console.print(
        f"Experiments: {len(report.waiting_refused)} waiting for approval ended (nothing injected), "
        f"{len(report.running_told)} running told to stop and roll back at their next step"
    )
    stop_drills(stack=stack, region=region)


def _caller(deployed: Any) -> str:
    """Who answers, for the record: the caller's IAM identity."""
    return str(deployed.client("sts").get_caller_identity()["Arn"])
