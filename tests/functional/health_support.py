"""Shared set-up of the health / alarm / notify tests: an emulated account with a small fleet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys, demo_config
from lifeboat.domain.config import parse_config
from lifeboat.domain.health import ResourceHealth, assess
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.local.runtime import ACCOUNT_ID, CONFIG_PARAMETER, LocalCloud
from lifeboat.state.health import save_health
from lifeboat.state.store import to_item

EVENTS = Path(__file__).resolve().parents[2] / "events" / "health"
ORDERS = DemoInstance("orders-db", "prod", encrypted=False)
REPORTS = DemoInstance("reports-db", "staging", encrypted=False)
ORDERS_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:db:orders-db"
REPORTS_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:db:reports-db"


def event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    """The emulated account with the demo config (prod RPO 1 h), orders-db (prod) and reports-db (staging)."""
    with LocalCloud() as local:
        _, keys = create_keys(local)
        config = demo_config(keys)
        config["policies"]["prod"]["rpoMinutes"] = 60  # the brief's production target
        local.put_config(config)
        for instance in (ORDERS, REPORTS):
            create_instance(local, instance, source_key="")
        yield local


def seed_backup(cloud: LocalCloud, arn: str, age: timedelta, regions: tuple[str, ...] = ()) -> str:
    """A SUCCEEDED backup of ``arn`` taken ``age`` ago, copied to ``regions``, as the workflow records it."""
    at = datetime.now(UTC) - age
    point = f"lb-{arn.rsplit(':', 1)[-1]}-daily-{at:%Y%m%d%H%M}-00000000"
    for kind, region, op_id in [
        (OperationType.BACKUP, arn.split(":")[3], f"backup:{point}"),
        *[(OperationType.COPY, r, f"copy:{point}:{r}") for r in regions],
    ]:
        op = Operation(
            operation_id=op_id,
            type=kind,
            resource_arn=arn,
            region=region,
            status=OperationStatus.SUCCEEDED,
            created_at=at,
            updated_at=at + timedelta(minutes=10),
            expires_at=int((at + timedelta(days=60)).timestamp()),
            recovery_point_id=point,
        )
        item = op.model_dump(mode="json", by_alias=True) | {"typeStatus": op.type_status}
        cloud.client("dynamodb").put_item(TableName=cloud.table_name, Item=to_item(item))
    return point


def seed_drill(
    cloud: LocalCloud,
    arn: str,
    finished: datetime,
    status: OperationStatus = OperationStatus.SUCCEEDED,
    *,
    region: str = "us-west-2",
    error: str | None = None,
    **details: float,
) -> None:
    """A finished DRILL operation as the drill workflow's contract records it: ``updatedAt`` is
    when it finished, ``region`` where it restored, ``details`` its rtoSeconds/dataAgeSeconds."""
    op = Operation(
        operation_id=f"drill:{arn.rsplit(':', 1)[-1]}:{finished:%Y%m%d%H%M}",
        type=OperationType.DRILL,
        resource_arn=arn,
        region=region,
        status=status,
        created_at=finished - timedelta(minutes=40),
        updated_at=finished,
        expires_at=int((finished + timedelta(days=400)).timestamp()),
        error=error,
        details=details,
    )
    item = op.model_dump(mode="json", by_alias=True) | {"typeStatus": op.type_status}
    cloud.client("dynamodb").put_item(TableName=cloud.table_name, Item=to_item(item))


def seed_breach(cloud: LocalCloud, arn: str, policy: str = "prod") -> ResourceHealth:
    """The health snapshot the monitor writes for a protected resource with no recovery point."""
    document = json.loads(cloud.client("ssm").get_parameter(Name=CONFIG_PARAMETER)["Parameter"]["Value"])
    health = assess(arn, parse_config(document).policy(policy), [], datetime.now(UTC))
    save_health(cloud.store(), health)
    return health


def executions(cloud: LocalCloud) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=cloud.state_machines["BackupStateMachine"])["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
