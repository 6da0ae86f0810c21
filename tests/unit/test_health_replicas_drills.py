"""Read-replica lag and restore drills in a resource's health (pure, frozen time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from lifeboat.cli import app
from lifeboat.cli import health as cli_health
from lifeboat.cli.health import health_table
from lifeboat.domain.health import (
    DrillDetails,
    DrillHealth,
    HealthReport,
    HealthStatus,
    LagReading,
    RegionHealth,
    ReplicaHealth,
    ReplicaStatus,
    ResourceHealth,
    assess,
    assess_drills,
    assess_replica,
)
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import Policy
from rich.console import Console
from typer.testing import CliRunner

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
SAME_REGION = "arn:aws:rds:us-east-1:123456789012:db:orders-ro"
CROSS_REGION = "arn:aws:rds:us-west-2:123456789012:db:orders-dr"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PROD = Policy.model_validate(
    {
        "name": "prod",
        "environment": "prod",
        "rpoMinutes": 60,
        "drill": {"enabled": True, "maxAgeDays": 30},
    }
)
UNSCHEDULED = Policy.model_validate({"name": "staging", "environment": "staging"})

# The models build lazily (defer_build); build them before freezegun swaps ``datetime`` out.
for _model in (
    Operation,
    ResourceHealth,
    RegionHealth,
    ReplicaHealth,
    LagReading,
    DrillHealth,
    DrillDetails,
    HealthReport,
):
    _model.model_rebuild(force=True)


def reading(seconds: float, age: timedelta = timedelta(minutes=1)) -> LagReading:
    return LagReading(seconds=seconds, at=NOW - age)


def drill(
    finished_ago: timedelta,
    status: OperationStatus = OperationStatus.SUCCEEDED,
    error: str | None = None,
    **details: float,
) -> Operation:
    """A DRILL operation as the drill workflow records it: updatedAt is when it finished."""
    finished = NOW - finished_ago
    return Operation(
        operation_id=f"drill:orders-db:{finished:%Y%m%d%H%M}",
        type=OperationType.DRILL,
        resource_arn=ARN,
        region="us-west-2",
        status=status,
        created_at=finished - timedelta(minutes=40),
        updated_at=finished,
        expires_at=0,
        error=error,
        details=details,
    )


def test_a_replica_within_five_minutes_is_ok_and_one_beyond_is_lagging() -> None:
    # GIVEN replicas whose newest ReplicaLag datapoints are 42 s, exactly 300 s and 420 s
    # WHEN each is judged against the brief's 5-minute target
    judged = {s: assess_replica(CROSS_REGION, reading(s)).status for s in (42, 300, 420)}
    # THEN up to 300 s is within target, beyond it the replica is lagging
    assert judged == {42: ReplicaStatus.OK, 300: ReplicaStatus.OK, 420: ReplicaStatus.LAGGING}
    lagging = assess_replica(CROSS_REGION, reading(420))
    assert (lagging.region, lagging.lag_seconds, lagging.describe) == (
        "us-west-2",
        420,
        "7m behind the source",
    )


def test_a_replica_without_a_recent_datapoint_has_an_unknown_lag_that_says_why() -> None:
    # GIVEN a replica with no ReplicaLag datapoint in the window, and one whose region's
    # CloudWatch did not answer
    silent = assess_replica(SAME_REGION, None)
    unreachable = assess_replica(CROSS_REGION, None, "CloudWatch in us-west-2 did not answer: timeout")
    # THEN both are UNKNOWN (not OK), with no lag figure, and the reason is spelled out
    assert (silent.status, silent.lag_seconds) == (ReplicaStatus.UNKNOWN, None)
    assert silent.describe == "no ReplicaLag datapoint in the last 10 minutes"
    assert unreachable.describe == "CloudWatch in us-west-2 did not answer: timeout"


def test_a_negative_lag_means_replication_stopped() -> None:
    # GIVEN RDS reporting ReplicaLag -1 (replication not active)
    stopped = assess_replica(SAME_REGION, reading(-1))
    # THEN the replica is STOPPED, not "0 s behind"
    assert stopped.status is ReplicaStatus.STOPPED
    assert stopped.describe == "replication is not active (ReplicaLag -1)"


def test_a_lagging_replica_is_flagged_without_turning_the_rpo_into_a_breach() -> None:
    # GIVEN a resource backed up 30 minutes ago (within its 1 h RPO), with one replica in
    # target and one 20 minutes behind
    backup = Operation(
        operation_id="backup:lb-orders-db-daily-202611220930-6d483cac",
        type=OperationType.BACKUP,
        resource_arn=ARN,
        region="us-east-1",
        status=OperationStatus.SUCCEEDED,
        created_at=NOW - timedelta(minutes=30),
        updated_at=NOW - timedelta(minutes=25),
        expires_at=0,
        recovery_point_id="lb-orders-db-daily-202611220930-6d483cac",
    )
    replicas = [assess_replica(SAME_REGION, reading(3)), assess_replica(CROSS_REGION, reading(1200))]
    # WHEN its health is assessed
    health = assess(ARN, PROD, [backup], NOW, replicas=replicas)
    # THEN the RPO stays OK (no on-demand backup would help a replica) and the lagging replica
    # is the one that needs a look
    assert health.status is HealthStatus.OK
    assert [r.replica_arn for r in health.replicas_over_target] == [CROSS_REGION]


@freeze_time(NOW)
def test_the_last_successful_drill_reports_when_it_finished_and_how_long_ago() -> None:
    # GIVEN a drill that passed 12 days ago (RTO 14 min, data 50 min old) and none since
    passed = drill(timedelta(days=12), rtoSeconds=840, dataAgeSeconds=3000)
    # WHEN assessed now
    health = assess_drills(PROD, passed, None, datetime.now(UTC), lookback_days=60)
    # THEN the report says when, how long ago, where, and what it measured; it is not overdue
    assert health.last_success_at == NOW - timedelta(days=12)
    assert health.minutes_since_success == 12 * 24 * 60
    assert (health.last_success_region, health.last_success_rto_seconds) == ("us-west-2", 840)
    assert health.last_success_data_age_seconds == 3000
    assert (health.last_status, health.last_error, health.overdue) == (OperationStatus.SUCCEEDED, None, False)


@freeze_time(NOW)
def test_a_failed_drill_after_the_last_success_is_the_latest_outcome() -> None:
    # GIVEN a drill that passed 12 days ago and one that failed 2 days ago
    passed = drill(timedelta(days=12), rtoSeconds=840)
    failed = drill(timedelta(days=2), OperationStatus.FAILED, error="ValidationFailed")
    # WHEN assessed
    health = assess_drills(PROD, passed, failed, datetime.now(UTC), lookback_days=60)
    # THEN the latest outcome is the failure (with its error); the age still counts from the
    # last success, which the failure did not renew
    assert (health.last_status, health.last_at) == (OperationStatus.FAILED, NOW - timedelta(days=2))
    assert health.last_error == "ValidationFailed"
    assert health.minutes_since_success == 12 * 24 * 60


@freeze_time(NOW)
def test_a_drill_is_overdue_only_where_the_policy_schedules_drills() -> None:
    # GIVEN a resource last drilled successfully 40 days ago and one never drilled
    old = drill(timedelta(days=40))
    # WHEN assessed under a policy that wants a passed drill every 30 days, and one without drills
    now = datetime.now(UTC)
    # THEN both are overdue under the first, neither under the second
    assert assess_drills(PROD, old, None, now, lookback_days=60).overdue
    assert assess_drills(PROD, None, None, now, lookback_days=60).overdue
    assert not assess_drills(UNSCHEDULED, old, None, now, lookback_days=60).overdue
    never = assess_drills(UNSCHEDULED, None, None, now, lookback_days=60)
    assert (never.overdue, never.last_status, never.minutes_since_success) == (False, None, None)


def test_the_health_table_marks_replicas_and_drills_for_an_operator() -> None:
    # GIVEN a report with a lagging cross-region replica, a silent one, a passed and a failed drill
    health = assess(
        ARN,
        PROD,
        [],
        NOW,
        replicas=[assess_replica(CROSS_REGION, reading(420)), assess_replica(SAME_REGION, None)],
        drill=assess_drills(
            PROD,
            drill(timedelta(days=12)),
            drill(timedelta(days=2), OperationStatus.FAILED, error="ValidationFailed"),
            NOW,
            lookback_days=60,
        ),
    )
    report = HealthReport(checked_at=NOW, resources=[health])
    # WHEN rendered as `lifeboat health` prints it
    console = Console(width=250, record=True)
    console.print(health_table(report, "Live RPO"))
    text = console.export_text()
    # THEN each replica has its own row with its region, lag and status, and the drills column
    # says when a drill last passed and that the latest one failed
    rows = {line.split("│")[4].strip(): line for line in text.splitlines() if "(replica)" in line}
    assert set(rows) == {"us-west-2 (replica)", "us-east-1 (replica)"}
    assert "orders-dr" in rows["us-west-2 (replica)"] and "7m" in rows["us-west-2 (replica)"]
    assert "LAGGING" in rows["us-west-2 (replica)"]
    assert "unknown" in rows["us-east-1 (replica)"] and "UNKNOWN" in rows["us-east-1 (replica)"]
    assert "no ReplicaLag datapoint in the last 10" in text
    assert "passed 12d 00h ago" in text
    assert "last drill FAILED 2d 00h ago" in text


def test_lifeboat_health_exits_1_and_names_a_lagging_replica_or_an_overdue_drill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a deployed stack whose monitor reports a resource within its RPO but with a replica
    # 7 minutes behind and no drill passed in the last 30 days
    backup = Operation(
        operation_id="backup:lb-orders-db-daily-202611220930-6d483cac",
        type=OperationType.BACKUP,
        resource_arn=ARN,
        region="us-east-1",
        status=OperationStatus.SUCCEEDED,
        created_at=NOW - timedelta(minutes=30),
        updated_at=NOW - timedelta(minutes=25),
        expires_at=0,
    )
    health = assess(
        ARN,
        PROD,
        [backup],
        NOW,
        replicas=[assess_replica(CROSS_REGION, reading(420))],
        drill=assess_drills(PROD, drill(timedelta(days=40)), None, NOW, lookback_days=60),
    )
    report = HealthReport(checked_at=NOW, resources=[health])
    monkeypatch.setattr(cli_health, "_deployed", lambda *_: report)
    # WHEN an operator runs `lifeboat health --stack lifeboat-prod`
    result = CliRunner().invoke(app, ["health", "--stack", "lifeboat-prod"])
    # THEN the RPO is fine, but the command fails and says which replica and which drill
    text = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "all 1 monitored resources within their RPO target" in text
    assert "orders-dr of orders-db: 7m behind the source" in text
    assert "no restore drill passed within the policy's maxAgeDays: orders-db" in text
