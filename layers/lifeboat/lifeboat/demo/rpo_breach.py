"""Demo act: a prod database with no recovery point breaches its RPO, the alarm starts an
on-demand backup (once for three deliveries of the alarm event) and the RPO recovers."""

from __future__ import annotations

from datetime import UTC, datetime

from lifeboat.cli.health import health_table
from lifeboat.demo.context import DemoContext
from lifeboat.demo.fleet import DemoFleet, DemoInstance, create_instance, create_replica
from lifeboat.domain.arn import ResourceRef
from lifeboat.local.events import TRIGGER, TableStream, alarm_event, put_replica_lag, run_monitor
from lifeboat.local.runtime import LocalCloud

NEW_DATABASE = DemoInstance("analytics-db", "prod", encrypted=True, storage_gib=20)
# A cross-region read replica of orders-db (continuous replication), and the lag local mode
# publishes for it as RDS's ReplicaLag (moto has no such metric).
DEMO_REPLICA = ("orders-db-dr", "us-west-2")
EMULATED_REPLICA_LAG_SECONDS = 2.0


def add_demo_replica(cloud: LocalCloud, fleet: DemoFleet) -> str:
    """Create the demo replica in moto and put the ReplicaLag datapoint RDS would publish."""
    name, region = DEMO_REPLICA
    arn = create_replica(cloud, fleet.instances["orders-db"], name, region, fleet.keys[region])
    put_replica_lag(cloud, arn, EMULATED_REPLICA_LAG_SECONDS, datetime.now(UTC))
    return arn


def rpo_breach_act(context: DemoContext) -> int:
    """A prod database with no recovery point -> RPO alarm -> on-demand backup -> back within target."""
    cloud, console = context.cloud, context.console
    console.rule("[bold]Act: RPO monitoring, alarm trigger, notifications")
    stream = TableStream(cloud)
    replica = add_demo_replica(cloud, context.fleet)
    console.print(
        f"Created [bold]{ResourceRef.parse(replica).name}[/], a read replica of orders-db in "
        f"{DEMO_REPLICA[1]}. [dim]moto has no ReplicaLag metric: local mode publishes "
        f"{EMULATED_REPLICA_LAG_SECONDS:g} s for it, as RDS would every minute.[/]"
    )
    arn = create_instance(cloud, NEW_DATABASE, context.fleet.source_key)
    context.fleet.instances[NEW_DATABASE.name] = arn
    console.print(
        f"Created [bold]{NEW_DATABASE.name}[/] (tagged prod) after the daily run: it has no recovery "
        "point yet, so its RPO is breached in every region. Nothing else is simulated."
    )
    before = run_monitor(cloud)
    console.print(health_table(before, "Health check (rpo_monitor) before"))
    breached = [h.name for h in before.breaches]
    delivered, _ = stream.deliver()
    console.print(f"Stream: {delivered} record(s) -> notify; published:")
    _print_notifications(context)

    console.print(
        "[dim]moto never sends alarm events: delivering the 'CloudWatch Alarm State Change' event "
        "EventBridge would send for RpoBreachProdAlarm (3 times, as a redelivered event would be).[/]"
    )
    now = datetime.now(UTC)
    outcomes = [
        cloud.invoke_function(TRIGGER, alarm_event(cloud, "RpoBreachProdAlarm", value=len(breached), at=now))
        for _ in range(3)
    ]
    backups = [b for o in outcomes for b in o["backups"]]
    started = [b for b in backups if not b["duplicate"]]
    console.print(
        f"alarm_trigger: {outcomes[0]['reason']}; deliveries 2 and 3: "
        f"{sum(b['duplicate'] for b in backups)} duplicate(s) suppressed"
    )
    for backup in started:
        described = cloud.wait(backup["executionArn"])
        console.print(
            f"  on-demand backup {backup['executionArn'].rsplit(':', 1)[-1]}: {described['status']}"
        )

    after = run_monitor(cloud)
    console.print(health_table(after, "Health check (rpo_monitor) after the on-demand backup"))
    delivered, _ = stream.deliver()
    console.print(f"Stream: {delivered} record(s) -> notify; published:")
    _print_notifications(context)
    recovered = NEW_DATABASE.name in breached and all(h.name != NEW_DATABASE.name for h in after.breaches)
    ok = recovered and len(started) == 1
    verdict = "[green]RPO back within target[/]" if ok else "[red]RPO still breached[/]"
    console.print(f"{NEW_DATABASE.name}: {verdict}; {len(started)} on-demand backup for 3 alarm deliveries")
    return 0 if ok else 1


def _print_notifications(context: DemoContext) -> None:
    messages = context.cloud.notifications()
    for message in messages:
        context.console.print(f"  [bold]{message.get('Subject')}[/]")
        for line in str(message.get("Message", "")).splitlines():
            context.console.print(f"    {line}", highlight=False)
    if not messages:
        context.console.print("  (none)")
