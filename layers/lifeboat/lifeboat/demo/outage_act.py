"""Demo act: a DR region goes down during a backup, the backup still makes its point where it can
and says what is missing; when the region is back, the next run catches the missed copy up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.table import Table

from lifeboat.demo.context import DemoContext
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.local.faults import FaultPlan

DOWN, UP = "us-west-2", "eu-west-1"
DATABASE = "orders-db"


def _table(context: DemoContext, points: list[str], title: str) -> Table:
    """Per recovery point: its backup, and its copy (and catch-up copy) in each DR region."""
    store = context.cloud.store()
    table = Table(title=title)
    for column in ("recovery point", "backup (us-east-1)", f"copy {DOWN}", f"copy {UP}"):
        table.add_column(column, overflow="fold")
    for point in points:
        backup = store.get(backup_operation_id(point))
        cells = []
        for region in (DOWN, UP):
            copy = store.get(copy_operation_id(point, region))
            caught_up = store.get(copy_operation_id(point, region, catch_up=True))
            cell = "-" if copy is None else f"{copy.status.value} {copy.error or ''}".strip()
            if caught_up is not None:
                cell += f"; caught up: {caught_up.status.value}"
            cells.append(cell)
        status = backup.status.value if backup else "-"
        table.add_row(point, status, *cells)
    return table


def region_outage_act(context: DemoContext) -> int:
    """us-west-2 unreachable for one on-demand backup of orders-db, then back for the next one."""
    cloud, console = context.cloud, context.console
    console.rule(f"[bold]Act: {DOWN} down during a backup, then the catch-up")
    arn = context.fleet.instances[DATABASE]
    first = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    console.print(
        f"Every call to {DOWN} now fails as an unreachable endpoint does; an on-demand backup of {DATABASE}:"
    )
    with cloud.faults(FaultPlan(seed=1, error_rate=0.0, down_regions=frozenset({DOWN}))):
        outage = cloud.wait(cloud.start_backup("daily", first, [arn]))
    points = [recovery_point_id(arn, Tier.DAILY, first)]
    console.print(_table(context, points, f"During the outage (run {outage['status']})"))
    for message in cloud.notifications():
        console.print(f"  [bold]{message.get('Subject')}[/]")
    health = cloud.invoke_function("RpoMonitorFunction", {"resourceArns": [arn]})
    for region, why in health["unreachableRegions"].items():
        console.print(f"  health check: [red]{region} {why[:120]}[/]", highlight=False)
    context.fleet.config["policies"]["prod"]["backfillMissedCopies"] = True
    cloud.put_config(context.fleet.config)
    second = first + timedelta(minutes=1)
    console.print(f"{DOWN} is back; the policy backfills missed copies; the next on-demand backup:")
    recovery = cloud.wait(cloud.start_backup("daily", second, [arn]))
    points.append(recovery_point_id(arn, Tier.DAILY, second))
    console.print(_table(context, points, f"After the outage (run {recovery['status']})"))
    store = cloud.store()
    caught_up = store.get(copy_operation_id(points[0], DOWN, catch_up=True))
    partial = store.get(backup_operation_id(points[0]))
    ok = (
        partial is not None
        and partial.status.value == "PARTIAL"
        and caught_up is not None
        and caught_up.status.value == "SUCCEEDED"
    )
    return 0 if ok else 1
