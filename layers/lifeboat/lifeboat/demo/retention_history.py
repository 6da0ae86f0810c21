"""Backdated backup history for local mode: what months of scheduled runs would have left behind.

Running 400 daily workflows to get a 400-day history would take hours even emulated. This
creates the same end state directly: each recovery point as a real snapshot with Lifeboat's
tags in the source region and a real cross-region copy in each DR region, plus the state-table
items the backup workflow writes (BACKUP and COPY operations, validated, dated when the
schedule would have run). Only the dates differ from a real history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.kms import resolve_usable_key
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id, run_id
from lifeboat.domain.operations import Operation, OperationStatus, OperationType, StatusChange
from lifeboat.domain.policy import Policy, Tier
from lifeboat.domain.recovery import recovery_point_tags
from lifeboat.plugins import plugin_for
from lifeboat.state.store import StateStore, to_item

_SCHEDULE_HOURS = {Tier.DAILY: 3, Tier.WEEKLY: 4, Tier.MONTHLY: 5, Tier.YEARLY: 6}
# Sub-daily schedules: (first hour, every N hours, minute past the hour), as in template.yaml.
_SUB_DAILY = {Tier.HOURLY: (0, 1, 30), Tier.EVERY_6H: (1, 6, 15)}


def scheduled_runs(policy: Policy, start: datetime, end: datetime) -> Iterator[tuple[Tier, datetime]]:
    """The runs the template's schedules fire between two dates for the tiers the policy has.

    Daily at 03:00, weekly on Sundays at 04:00, monthly on the 1st at 05:00 (template.yaml),
    yearly on 1 January at 06:00; hourly at :30, every 6 hours at 01:15, 07:15, 13:15, 19:15.
    """
    tiers = policy.effective_retention
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end:
        due = {
            Tier.DAILY: True,
            Tier.WEEKLY: day.weekday() == 6,
            Tier.MONTHLY: day.day == 1,
            Tier.YEARLY: day.day == 1 and day.month == 1,
        }
        times = [(tier, day.replace(hour=hour)) for tier, hour in _SCHEDULE_HOURS.items() if due[tier]]
        times += [
            (tier, day.replace(hour=hour, minute=minute))
            for tier, (first, every, minute) in _SUB_DAILY.items()
            for hour in range(first, 24, every)
        ]
        for tier, at in sorted(times, key=lambda run: run[1]):
            if tier in tiers and start <= at <= end:
                yield tier, at
        day += timedelta(days=1)


def seed_history(
    clients: ClientProvider,
    store: StateStore,
    resource_arn: str,
    policy: Policy,
    runs: list[tuple[Tier, datetime]],
) -> list[str]:
    """Create one validated recovery point per run, in the source and every DR region."""
    ref = ResourceRef.parse(resource_arn)
    plugin = plugin_for(ref, clients)
    source = plugin.describe_source(ref)
    keys = {
        t.region: resolve_usable_key(clients, t.region, t.kms_key_id)
        if source.encrypted and t.kms_key_id
        else None
        for t in policy.dr_regions
    }
    points = []
    for tier, at in runs:
        point = recovery_point_id(resource_arn, tier, at)
        tags = recovery_point_tags(
            resource_arn=resource_arn,
            recovery_point_id=point,
            tier=tier.value,
            policy=policy.name,
            scheduled_at=at,
        )
        plugin.create_recovery_point(ref, point, tags)
        _put(
            store,
            _operation(
                backup_operation_id(point),
                OperationType.BACKUP,
                ref=ref,
                region=ref.region,
                tier=tier,
                at=at,
                policy=policy,
            ),
        )
        for region, key in keys.items():
            plugin.copy_recovery_point(ref, point, region, key)
            copy = _operation(
                copy_operation_id(point, region),
                OperationType.COPY,
                ref=ref,
                region=region,
                tier=tier,
                at=at + timedelta(minutes=5),
                policy=policy,
            )
            _put(store, copy)
        points.append(point)
    return points


def _operation(
    operation_id: str,
    type: OperationType,
    *,
    ref: ResourceRef,
    region: str,
    tier: Tier,
    at: datetime,
    policy: Policy,
) -> Operation:
    point = operation_id.split(":")[1]
    done = at + timedelta(minutes=20)
    history = [StatusChange(status=OperationStatus.RUNNING, at=at, detail="history seeded by local mode")]
    if type is OperationType.BACKUP:
        history.insert(0, StatusChange(status=OperationStatus.PENDING, at=at, detail="preflight"))
    return Operation(
        operation_id=operation_id,
        type=type,
        resource_arn=ref.arn,
        region=region,
        status=OperationStatus.SUCCEEDED,
        history=[*history, StatusChange(status=OperationStatus.SUCCEEDED, at=done)],
        created_at=at,
        updated_at=done,
        expires_at=int(done.timestamp()) + ((policy.retention_for(tier) or 0) + 30) * 86_400,
        recovery_point_id=point,
        run_id=run_id(tier, at),
        tier=tier.value,
        policy=policy.name,
        details={f"validation_{region}": {"recoveryPointId": point, "region": region, "valid": True}},
    )


def _put(store: StateStore, operation: Operation) -> None:
    item = operation.model_dump(mode="json", by_alias=True)
    item["typeStatus"] = operation.type_status
    store.client.put_item(TableName=store.table_name, Item=to_item(item))
