"""A database whose backup fails run after run stops paging every schedule: the third failure in
a row opens its circuit (CIRCUIT_OPEN in the notification), scheduled runs skip it saying why,
the rest of the fleet goes on, and a run by hand that succeeds closes it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from lifeboat.command import app
from lifeboat.domain.health import HealthReport
from lifeboat.local.events import MONITOR
from lifeboat.local.runtime import LocalCloud
from lifeboat.state import resource_breakers
from typer.testing import CliRunner

from .backup_support import SCHEDULED_AT, backup_of, instance_fleet, run

BROKEN_KEY = "arn:aws:kms:us-east-1:123456789012:key/retired-payments-key"


@contextmanager
def payments_snapshots_refused() -> Iterator[None]:
    """CreateDBSnapshot of payments-db is refused, as when its KMS key is no longer accessible."""
    from moto.rds.exceptions import KMSKeyNotAccessibleFault
    from moto.rds.models import RDSBackend

    create: Callable[..., Any] = RDSBackend.create_db_snapshot

    def create_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        if (kwargs.get("db_instance_identifier") or args[0]) == "payments-db":
            raise KMSKeyNotAccessibleFault(BROKEN_KEY)
        return create(self, *args, **kwargs)

    with mock.patch.object(RDSBackend, "create_db_snapshot", create_db_snapshot):
        yield


def _fail_runs(cloud: LocalCloud, arn: str, runs: int) -> None:
    """``runs`` failed backups of ``arn`` recorded on its breaker, as the record step does."""
    for n in range(runs):
        resource_breakers.count_failure(
            cloud.store(),
            arn,
            run_id=f"daily-{n}",
            now=SCHEDULED_AT,
            error="KmsKeyNotUsable",
            cause="c",
            open_after=3,
        )


def test_three_failed_runs_open_the_circuit_and_a_run_by_hand_closes_it(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "payments-db", "inventory-db") as (cloud, fleet):
        payments, inventory = fleet.instances["payments-db"], fleet.instances["inventory-db"]
        days = [SCHEDULED_AT + timedelta(days=n) for n in range(4)]
        with payments_snapshots_refused():
            # GIVEN payments-db's snapshots are refused, day after day
            for day in days[:2]:
                run(cloud, cloud.deliver_schedule("DailyBackupSchedule", day))
            # THEN two failures in a row are counted, the circuit still closed
            assert resource_breakers.failing_resources(cloud.store())[payments].failures == 2
            first_two = cloud.notifications()
            assert first_two and not [n for n in first_two if "CIRCUIT_OPEN" in n["Subject"]]
            # WHEN the third run fails too
            run(cloud, cloud.deliver_schedule("DailyBackupSchedule", days[2]))
            # THEN the circuit opens, and the failure's notification says so and what to do
            breaker = resource_breakers.failing_resources(cloud.store())[payments]
            assert breaker.open and breaker.failures == 3 and breaker.error == "KmsKeyNotUsable"
            (opened,) = [n for n in cloud.notifications() if "payments-db" in n["Subject"]]
            assert opened["Subject"].startswith("Lifeboat: daily backup FAILED CIRCUIT_OPEN for payments-db")
            assert "CIRCUIT_OPEN: 3 failed backups in a row since" in opened["Message"]
            assert f"lifeboat backup run --resource {payments}" in opened["Message"]
            # WHEN the next scheduled run comes
            fourth = run(cloud, cloud.deliver_schedule("DailyBackupSchedule", days[3]))
            # THEN payments-db is skipped, saying why, the rest backed up, and nobody is paged
            assert [r["arn"] for r in fourth["output"]["resources"]] == [inventory]
            (skipped,) = [s for s in fourth["output"]["skipped"] if s["arn"] == payments]
            assert skipped["reason"].startswith("CIRCUIT_OPEN: 3 failed backups in a row")
            assert backup_of(cloud, inventory, days[3]).status.value == "SUCCEEDED"
            assert cloud.notifications() == []
        # WHEN the cause is fixed and an operator runs payments-db by hand
        by_hand = run(cloud, cloud.start_backup("daily", days[3], resources=[payments]))
        # THEN it is tried, it succeeds, and the circuit is closed: the next schedule includes it
        assert [r["arn"] for r in by_hand["output"]["resources"]] == [payments]
        assert backup_of(cloud, payments, days[3]).status.value == "SUCCEEDED"
        assert payments not in resource_breakers.failing_resources(cloud.store())
        fifth = run(cloud, cloud.deliver_schedule("DailyBackupSchedule", days[3] + timedelta(days=1)))
        assert payments in [r["arn"] for r in fifth["output"]["resources"]]


def test_a_success_between_failures_starts_the_count_again(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "payments-db") as (cloud, fleet):
        payments = fleet.instances["payments-db"]
        days = [SCHEDULED_AT + timedelta(days=n) for n in range(4)]
        # GIVEN two failed runs, then one that works, then one more failure
        with payments_snapshots_refused():
            for day in days[:2]:
                run(cloud, cloud.deliver_schedule("DailyBackupSchedule", day))
        run(cloud, cloud.deliver_schedule("DailyBackupSchedule", days[2]))
        assert payments not in resource_breakers.failing_resources(cloud.store())
        with payments_snapshots_refused():
            run(cloud, cloud.deliver_schedule("DailyBackupSchedule", days[3]))
        # THEN the count is 1, not 3: the circuit stays closed
        breaker = resource_breakers.failing_resources(cloud.store())[payments]
        assert breaker.failures == 1 and not breaker.open


def test_an_operator_resets_an_open_circuit_against_the_stack(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "payments-db") as (cloud, fleet):
        payments = fleet.instances["payments-db"]
        # GIVEN payments-db's circuit opened after three failed runs
        _fail_runs(cloud, payments, 3)
        assert resource_breakers.open_circuits(cloud.store())[payments].failures == 3
        stack = SimpleNamespace(outputs={"StateTableName": cloud.table_name}, client=cloud.client)
        # WHEN an operator resets it against the stack
        with mock.patch("lifeboat.cli.deployed.DeployedStack.find", return_value=stack):
            result = CliRunner().invoke(
                app, ["backup", "reset", "--resource", payments, "--region", "us-east-1"]
            )
            again = CliRunner().invoke(
                app, ["backup", "reset", "--resource", payments, "--region", "us-east-1"]
            )
        # THEN the circuit is gone, and the line says what it was
        assert result.exit_code == 0, result.output
        assert "reset" in result.output and "OPEN after 3 failed backups in a row" in " ".join(
            result.output.split()
        )
        assert payments not in resource_breakers.failing_resources(cloud.store())
        # AND resetting again says there is nothing to reset
        assert again.exit_code == 0 and "nothing to reset" in again.output


def test_a_retried_record_step_counts_its_run_once(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "payments-db") as (cloud, fleet):
        payments = fleet.instances["payments-db"]
        # GIVEN one run's failure recorded three times (its record step retried)
        for _ in range(3):
            breaker = resource_breakers.count_failure(
                cloud.store(),
                payments,
                run_id="daily-1",
                now=SCHEDULED_AT,
                error="X",
                cause="y",
                open_after=2,
            )
        # THEN it counts once, and the circuit stays closed
        assert breaker.failures == 1 and not breaker.open


def test_health_reports_an_open_circuit_saying_why(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "payments-db", "inventory-db") as (cloud, fleet):
        payments = fleet.instances["payments-db"]
        run(cloud, cloud.start_backup("daily", SCHEDULED_AT))
        # GIVEN payments-db's circuit is open
        _fail_runs(cloud, payments, 3)
        # WHEN the RPO monitor runs
        report = HealthReport.model_validate(cloud.invoke_function(MONITOR, {}))
        # THEN payments-db is CIRCUIT_OPEN with why; inventory-db is not
        circuits = {h.name: h.circuit_open for h in report.resources}
        assert circuits["inventory-db"] is None
        assert (circuits["payments-db"] or "").startswith("3 failed backups in a row since")
