"""The demo's last act: a restore drill of one database, with real SQL checks on its data."""

from __future__ import annotations

from lifeboat.cli.drill import print_drills
from lifeboat.demo.context import DemoContext
from lifeboat.demo.sample_data import CHECKED_DATABASES

DRILLED = CHECKED_DATABASES[0]


def drill_act(context: DemoContext) -> int:
    """Drill one database in its first DR region; 0 when every check passed and it was torn down."""
    cloud, console = context.cloud, context.console
    arn = context.fleet.instances[DRILLED]
    console.print(
        f"[bold]Restore drill of {DRILLED}[/]: its newest valid copy in its DR region restored into a "
        "temporary private instance, checked over SQL against the profile taken at backup time, torn down"
    )
    execution = cloud.start_execution("DrillStateMachine", {"resources": [arn], "trigger": "manual"})
    code = print_drills(cloud.wait(execution), cloud.store(), cloud.client("s3"), console)
    leftovers = [
        i["DBInstanceIdentifier"]
        for region in ("us-east-1", "us-west-2", "eu-west-1")
        for i in cloud.client("rds", region).describe_db_instances()["DBInstances"]
        if i["DBInstanceIdentifier"].startswith("lbdrill-")
    ]
    if leftovers:
        console.print(f"[red]drill instances left behind:[/] {', '.join(leftovers)}")
        return 1
    return code
