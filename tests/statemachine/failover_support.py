"""Shared set-up of the failover tests: the demo's failover plan (demo/failover_act.py) on a
backed-up orders-db, whose replica in us-west-2 is tagged for the plan, ledger-aurora, whose
global database has its secondary there, and payments-db, which has only its copies there; the
handlers' AWS calls counted from the start."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifeboat.demo.failover_act import PLAN, FailoverSetup, prepare_failover, set_lags
from lifeboat.demo.fleet import DEMO_CLUSTERS, DemoFleet, seed_demo_fleet
from lifeboat.domain.operations import Operation
from lifeboat.local.runtime import LocalCloud

from .backup_support import FAST, backup_cycle_bench, demo_instances, run

WEST = "us-west-2"
REPLICA = "orders-db-dr"
SECONDARY = "ledger-aurora-dr"


@dataclass
class FailoverWorld:
    cloud: LocalCloud
    fleet: DemoFleet
    setup: FailoverSetup
    calls: Counter[tuple[str, str, str]]  # (step, service, operation) of every handler's AWS call

    @property
    def replica_arn(self) -> str:
        return self.setup.replica_arn

    def record(self, name: str) -> str | None:
        return self.setup.record(self.cloud, name)

    def instance(self, region: str, identifier: str) -> dict[str, Any]:
        described = self.cloud.client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
        return dict(described["DBInstances"][0])

    def failovers(self, status: str | None = None) -> dict[str, Operation]:
        """The newest FAILOVER operation of each resource (by name), of a status if given."""
        found = sorted(
            (Operation.model_validate(i) for i in self.cloud.operations() if i["type"] == "FAILOVER"),
            key=lambda o: o.created_at,
        )
        return {o.resource_arn.rsplit(":", 1)[-1]: o for o in found if status in (None, o.status.value)}

    def failover(self, **request: Any) -> dict[str, Any]:
        return run(self.cloud, self.cloud.start_execution("FailoverStateMachine", {"plan": PLAN, **request}))

    def set_lag(self, seconds: float) -> None:
        set_lags(self.cloud, self.setup, seconds)

    def writer(self) -> str:
        """The ARN of ledger-aurora's global database writer."""
        found = self.cloud.client("rds").describe_global_clusters()["GlobalClusters"][0]
        return next(m["DBClusterArn"] for m in found["GlobalClusterMembers"] if m["IsWriter"])


@contextmanager
def failover_world(
    log_dir: Path, *, lag_seconds: float | None = 2.0, databases: bool = False
) -> Iterator[FailoverWorld]:
    """``databases``: real PostgreSQL behind the instances (level-2 checks can run)."""
    with (
        LocalCloud(time_scale=FAST, log_file=log_dir / "local.log", databases=databases) as cloud,
        backup_cycle_bench().counting_calls(cloud) as calls,
    ):
        fleet = seed_demo_fleet(
            cloud,
            instances=demo_instances("orders-db", "payments-db"),
            clusters=tuple(c for c in DEMO_CLUSTERS if c.name == "ledger-aurora"),
            volumes=(),
            tables=(),
            caches=(),
        )
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        assert run(cloud, cloud.start_backup("daily", now))["status"] == "SUCCEEDED"
        setup = prepare_failover(cloud, fleet, lag_seconds=lag_seconds)
        cloud.notifications()  # the backups' messages are not the failover's
        yield FailoverWorld(cloud, fleet, setup, calls)
