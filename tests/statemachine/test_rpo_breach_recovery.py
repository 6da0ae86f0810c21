"""End to end on the real ASL: RPO breached -> alarm -> on-demand backup -> RPO back within target."""

from __future__ import annotations

from datetime import UTC, datetime

from functional.health_support import ORDERS_ARN, cloud
from lifeboat.demo.rpo_breach import TableStream, alarm_event, run_monitor
from lifeboat.local.runtime import LocalCloud

__all__ = ["cloud"]


def test_a_breached_resource_is_backed_up_by_its_alarm_and_recovers(cloud: LocalCloud) -> None:
    # GIVEN orders-db (prod) and reports-db (staging) protected but never backed up, and the
    # table stream read from now on
    stream = TableStream(cloud)
    # WHEN the monitor runs, the prod RPO alarm fires (as EventBridge would deliver it) and the
    # on-demand backup it starts completes, then the monitor runs again
    before = run_monitor(cloud)
    _, first_batch = stream.deliver()
    breach_messages = [m["Subject"] for m in cloud.notifications()]
    event = alarm_event(cloud, "RpoBreachProdAlarm", value=1, at=datetime.now(UTC))
    outcome = cloud.invoke_function("AlarmTriggerFunction", event)
    (started,) = outcome["backups"]
    run = cloud.wait(started["executionArn"])
    after = run_monitor(cloud)
    stream.deliver()
    # THEN both were in breach and the operator was told about each
    assert [h.name for h in before.breaches] == ["orders-db", "reports-db"]
    assert first_batch == {"batchItemFailures": []}
    assert sorted(breach_messages) == [
        "Lifeboat: RPO BREACH orders-db (us-east-1, prod)",
        "Lifeboat: RPO BREACH reports-db (us-east-1, staging)",
    ]
    # AND the prod alarm backed up exactly orders-db through the real backup workflow
    assert (started["resourceArn"], run["status"]) == (ORDERS_ARN, "SUCCEEDED")
    # AND orders-db is now within target in every region (reports-db, whose staging alarm did not
    # fire here, still is not), and the operator was told
    (orders,) = [h for h in after.resources if h.resource_arn == ORDERS_ARN]
    assert orders.status.value == "OK"
    assert all(r.age_minutes is not None and r.age_minutes < 5 for r in orders.regions)
    assert [h.name for h in after.breaches] == ["reports-db"]
    assert [m["Subject"] for m in cloud.notifications()] == ["Lifeboat: RPO restored orders-db (us-east-1)"]
