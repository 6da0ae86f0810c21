"""The root ``lifeboat`` command: every command group, locally (moto) or on a deployed stack."""

from __future__ import annotations

import typer

from lifeboat.cli.backup import backup_app, demo
from lifeboat.cli.cleanup import cleanup
from lifeboat.cli.drill import drill_app
from lifeboat.cli.health import health
from lifeboat.cli.restore import restore

__all__ = ["app"]

app = typer.Typer(
    help="Lifeboat: validated backups, cross-region copies and restores for AWS.", no_args_is_help=True
)
app.command("demo")(demo)
app.add_typer(backup_app, name="backup")
app.command("cleanup")(cleanup)
app.command("health")(health)
app.command("restore")(restore)
app.add_typer(drill_app, name="drill")
