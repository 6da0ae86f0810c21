"""Continuous protection measured: the health check says, per resource and region, which
mechanism gives the best RPO right now (a snapshot's age, a read replica's lag, a global
database secondary's lag), and publishes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from lifeboat.demo.failover_act import set_lags
from lifeboat.domain.health import HealthReport, ReplicaStatus, rank_protection
from lifeboat.local.events import MONITOR
from lifeboat.service.deps import deps_from_env

from .failover_support import WEST, failover_world


def test_each_region_names_the_mechanism_with_the_best_rpo(tmp_path: Path) -> None:
    with failover_world(tmp_path) as world:
        # GIVEN six hours after the daily snapshots (copied to us-west-2 and eu-west-1), orders-db's
        # replica and ledger-aurora's global secondary in us-west-2 lag 2 s
        later = datetime.now(UTC) + timedelta(hours=6)
        set_lags(world.cloud, world.setup, 2.0, at=later)
        # WHEN the RPO monitor runs then
        with mock.patch.object(deps_from_env(), "now", lambda: later):
            report = HealthReport.model_validate(world.cloud.invoke_function(MONITOR, {}))
        best = {
            (h.name, r.region): (r.best_mechanism, r.best_rpo_seconds)
            for h in report.resources
            for r in h.regions
        }
        # THEN in us-west-2 orders-db's best RPO is its replica's lag, ledger-aurora's its secondary's
        assert best[("orders-db", WEST)] == ("read-replica", 2.0)
        assert best[("ledger-aurora", WEST)] == ("global-database", 2.0)
        # AND payments-db, with no replica, and every resource in eu-west-1 rely on their snapshots
        mechanism, seconds = best[("payments-db", WEST)]
        assert mechanism == "snapshot" and seconds is not None and seconds >= 6 * 3600
        assert {best[(name, "eu-west-1")][0] for name in ("orders-db", "payments-db", "ledger-aurora")} == {
            "snapshot"
        }
        # AND in the source region a point-in-time restore reaches nearer to now than the
        # snapshot of six hours ago (RDS automated backups; moto reaches "now" at each describe)
        for name in ("orders-db", "payments-db", "ledger-aurora"):
            mechanism, seconds = best[(name, "us-east-1")]
            assert mechanism == "point-in-time" and seconds is not None and seconds <= 6 * 3600
        # AND the global secondary is reported beside the replica, with its lag
        ledger = next(h for h in report.resources if h.name == "ledger-aurora")
        (secondary,) = ledger.replicas
        assert (secondary.mechanism, secondary.status, secondary.lag_seconds) == (
            "global-database",
            ReplicaStatus.OK,
            2.0,
        )


def test_a_replica_that_stopped_replicating_gives_no_rpo() -> None:
    # GIVEN a region whose snapshot is 10 minutes old and whose replica reports replication stopped
    report = HealthReport.model_validate(
        {
            "checkedAt": "2026-12-07T06:00:00Z",
            "resources": [
                {
                    "resourceArn": "arn:aws:rds:us-east-1:123456789012:db:orders-db",
                    "policy": "prod",
                    "environment": "prod",
                    "rpoMinutes": 60,
                    "checkedAt": "2026-12-07T06:00:00Z",
                    "status": "OK",
                    "regions": [{"region": WEST, "role": "dr", "ageMinutes": 10.0, "status": "OK"}],
                    "replicas": [
                        {
                            "replicaArn": "arn:aws:rds:us-west-2:123456789012:db:orders-db-dr",
                            "region": WEST,
                            "lagSeconds": -1,
                            "status": "STOPPED",
                        }
                    ],
                }
            ],
        }
    )
    health = report.resources[0]
    # WHEN the mechanisms are ranked THEN the snapshot gives the region its RPO, not the replica
    rank_protection(health.regions, health.replicas)
    assert (health.regions[0].best_mechanism, health.regions[0].best_rpo_seconds) == ("snapshot", 600.0)
