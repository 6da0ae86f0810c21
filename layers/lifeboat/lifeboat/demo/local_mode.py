"""``--local`` runs and ``lifeboat demo``: the demo fleet on the emulated account.

Every run starts a fresh emulated account, seeds the demo fleet and (but for a backup run, which
is the run itself) takes the daily backup first, then runs the same state machine a deployed
stack would and prints it with the cli's printers.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from lifeboat.cli.backup import finish_run, follow_run
from lifeboat.cli.cleanup import local_plan, print_plan, print_run
from lifeboat.cli.console import console
from lifeboat.cli.drill import print_drills
from lifeboat.cli.experiment import print_experiment
from lifeboat.cli.failover import print_failover, step_outputs
from lifeboat.cli.restore import DEMO_RESOURCE, print_restore, restore_request
from lifeboat.contracts.cleanup import CleanupRequest
from lifeboat.contracts.restore import DrillRunRequest
from lifeboat.demo.acts import ACTS
from lifeboat.demo.context import DemoContext
from lifeboat.demo.experiments import prepare_experiments
from lifeboat.demo.failover_act import DEMO_LAG_SECONDS, PLAN, TARGET_REGION, ZONE_NAME, prepare_failover
from lifeboat.demo.fleet import DemoFleet, seed_demo_fleet
from lifeboat.demo.rpo_breach import DEMO_REPLICA, EMULATED_REPLICA_LAG_SECONDS, add_demo_replica
from lifeboat.domain.health import HealthReport
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Tier
from lifeboat.local.events import MONITOR
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.experiment_control import answer_approval

__all__ = ["EmulatedAccount"]


class EmulatedAccount:
    """The cli's ``LocalMode`` on moto with the demo fleet."""

    def demo(self, time_scale: float) -> int:
        return self._backup(Tier.DAILY, resources=None, time_scale=time_scale, demo=True)

    def backup(self, tier: Tier, resources: list[str] | None) -> int:
        return self._backup(tier, resources=resources, time_scale=0.001, demo=False)

    def cleanup(self, request: CleanupRequest) -> int:
        with LocalCloud() as cloud:
            seed_demo_fleet(cloud)
            now = datetime.now(UTC)
            backup = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", now))
            console.print(f"Emulated account: demo fleet seeded, daily backup run {backup['status']}")
            if request.dry_run:
                from lifeboat.service.deps import deps_from_env

                print_plan(local_plan(deps_from_env(), request), console)
                return 0
            payload = request.model_dump(mode="json", by_alias=True, exclude_none=True)
            described = cloud.wait(cloud.start_execution("CleanupStateMachine", payload))
            return print_run(described, console)

    def health(self, resources: list[str] | None) -> HealthReport:
        with LocalCloud() as cloud:
            fleet = seed_demo_fleet(cloud)
            console.print(
                f"Emulated account: {len(fleet.instances)} demo databases; running a daily backup first"
            )
            cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
            add_demo_replica(cloud, fleet)
            console.print(
                f"[dim]A read replica of orders-db in {DEMO_REPLICA[1]}; moto has no ReplicaLag, so local "
                f"mode publishes {EMULATED_REPLICA_LAG_SECONDS:g} s for it.[/]"
            )
            event = {"resourceArns": resources} if resources else {}
            return HealthReport.model_validate(cloud.invoke_function(MONITOR, event))

    def restore(self, payload: dict[str, Any]) -> int:
        with LocalCloud(databases=True) as cloud:
            fleet = _seeded(cloud)
            payload["resourceArn"] = payload["resourceArn"] or fleet.instances[DEMO_RESOURCE]
            request = restore_request(payload, console)
            if request is None:
                return 2
            described = cloud.wait(cloud.start_execution("RestoreStateMachine", request))
            return print_restore(described, cloud.store(), console)

    def drill(self, request: DrillRunRequest) -> int:
        with LocalCloud(databases=True) as cloud:
            fleet = _seeded(cloud)
            if request.resources is None:
                request = DrillRunRequest(resources=[fleet.instances[DEMO_RESOURCE]], trigger="manual")
            described = cloud.wait(
                cloud.start_execution("DrillStateMachine", request.model_dump(mode="json", by_alias=True))
            )
            return print_drills(described, cloud.store(), cloud.client("s3"), console)

    def failover(self, request: dict[str, Any]) -> int:
        """The demo's failover plan (orders-db by its replica, payments-db by its newest copy)."""
        with LocalCloud() as cloud:
            fleet = _seeded(cloud)
            setup = prepare_failover(cloud, fleet)
            console.print(
                f"Failover plan {PLAN} to {TARGET_REGION}: {', '.join(setup.resources)}; "
                f"DNS zone {ZONE_NAME}. Replica lag {DEMO_LAG_SECONDS:g} s, published by local mode "
                "(moto has no lag metrics)."
            )
            execution = cloud.start_execution("FailoverStateMachine", request)
            described = cloud.wait(execution)
            history = cloud.client("stepfunctions")
            return print_failover(described, step_outputs(history, execution), console)

    def experiment(self, request: dict[str, Any], *, approve: bool) -> int:
        """One of the demo's experiments; a critical one is approved (``--approve``) or refused by
        the local operator once it asks."""
        with LocalCloud() as cloud:
            fleet = _seeded(cloud)
            known = prepare_experiments(cloud, fleet)
            console.print(f"Experiments of the demo config: {', '.join(sorted(known))}")
            execution = cloud.start_execution("ExperimentStateMachine", request)
            sfn = cloud.client("stepfunctions")
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                for waiting in _awaiting_approval(cloud):
                    console.print(f"{waiting}: {'approving' if approve else 'refusing'} it (--approve)")
                    answer_approval(sfn, cloud.store(), waiting, approve=approve, by="local operator")
                time.sleep(0.05)
            return print_experiment(cloud.wait(execution), step_outputs(sfn, execution), console)

    def _backup(self, tier: Tier, *, resources: list[str] | None, time_scale: float, demo: bool) -> int:
        """A backup run followed live; the demo delivers the real schedule event, then plays its acts."""
        started = time.monotonic()
        with LocalCloud(time_scale=time_scale, databases=demo) as cloud:
            fleet = seed_demo_fleet(cloud)
            console.print(
                f"[bold]Lifeboat local mode[/] - emulated account {cloud.region}, {len(fleet.instances)} "
                f"RDS instances, DR keys in {', '.join(sorted(fleet.keys))}; logs in {cloud.log_file}"
            )
            now = datetime.now(UTC)
            if demo:
                execution = cloud.deliver_schedule("DailyBackupSchedule", now)
                console.print(f"Delivered the daily schedule event of {now:%Y-%m-%d %H:%M}Z")
            else:
                execution = cloud.start_backup(tier.value, now, resources)
            follow_run(cloud, execution, fleet.config)
            described = cloud.wait(execution)
            code = finish_run(described, cloud.store(), cloud.client("s3"), time.monotonic() - started)
            if demo:
                context = DemoContext(cloud=cloud, fleet=fleet, console=console)
                for act in ACTS:
                    code = max(code, act(context))
                counts = cloud.lambdas.invocations
                console.print(
                    f"Lambda invocations served in-process: {sum(counts.values())}  "
                    f"AWS API calls metered: {sum(cloud.meter.calls.values())}"
                )
        return code


def _awaiting_approval(cloud: LocalCloud) -> list[str]:
    """Experiments whose task token waits for an answer."""
    running = cloud.store().by_type_status(OperationType.EXPERIMENT, OperationStatus.RUNNING, limit=50)
    return [
        op.operation_id
        for op in running
        if op.details.get("approvalToken")
        and not (op.details.get("approvedBy") or op.details.get("deniedBy"))
    ]


def _seeded(cloud: LocalCloud) -> DemoFleet:
    fleet = seed_demo_fleet(cloud)
    backup = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
    data = " with PostgreSQL data behind its RDS instances" if cloud.data_plane is not None else ""
    console.print(f"Emulated account: demo fleet{data}; daily backup {backup['status']}")
    return fleet
