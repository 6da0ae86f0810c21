"""The root ``lifeboat`` command: every command group, locally (moto) or on a deployed stack."""

from __future__ import annotations

from typing import Annotated

import typer

from lifeboat.cli.backup import backup_app, demo
from lifeboat.cli.cleanup import cleanup
from lifeboat.cli.drill import drill_app
from lifeboat.cli.errors import OneLineErrors
from lifeboat.cli.experiment import experiment_app
from lifeboat.cli.failover import failover
from lifeboat.cli.health import health
from lifeboat.cli.restore import restore

__all__ = ["app"]

app = typer.Typer(
    cls=OneLineErrors,
    help="Lifeboat: validated backups, cross-region copies and restores for AWS.",
    no_args_is_help=True,
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error instead of its one line.")
    ] = False,
) -> None:
    """Exit codes: 0 ok; 1 something failed or is over its target; 2 bad arguments, credentials or stack."""


app.command("demo")(demo)
app.add_typer(backup_app, name="backup")
app.command("cleanup")(cleanup)
app.command("health")(health)
app.command("restore")(restore)
app.add_typer(drill_app, name="drill")
app.command("failover")(failover)
app.add_typer(experiment_app, name="experiment")
