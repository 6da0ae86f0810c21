"""React to Lifeboat's CloudWatch alarms (delivered by EventBridge as "Alarm State Change").

- An RPO alarm starts an on-demand backup of exactly the resources in breach: the alarm's
  ``resource`` dimension when it has one, otherwise the resources of its ``policy`` /
  ``environment`` whose latest health snapshot is a breach.
- Any other Lifeboat alarm opens an incident record (its own alarm action already notified).
- Alarms whose name does not carry the stack's prefix, or whose event comes from another account
  or region or does not name the alarm's ARN in this account, are not ours: ignored and logged.

Repeated deliveries within ``DEDUPE_WINDOW`` start one backup per resource: a conditional write
claims the resource, and the execution name is derived from the claim, so even a retry after a
crash between the claim and the start cannot start a second one.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from lifeboat.aws.errors import error_code, translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import ResourceHealth
from lifeboat.domain.ids import normalise_time, recovery_point_id
from lifeboat.domain.models import CamelModel
from lifeboat.domain.policy import Tier
from lifeboat.errors import ConfigError, InvalidInput
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps
from lifeboat.state import health as health_state

BACKUP_STATE_MACHINE_ENV = "BACKUP_STATE_MACHINE_ARN"
ALARM_PREFIX_ENV = "ALARM_NAME_PREFIX"
DEDUPE_WINDOW = timedelta(minutes=60)
RPO_METRICS = frozenset({"ResourcesOverRpo", "RecoveryPointAgeMinutes", "RpoBreached"})
LIFEBOAT_NAMESPACE = "Lifeboat"
# An on-demand catch-up point takes the daily tier: every enabled policy has it, and it has the
# shortest retention, so the extra point is cleaned up like any daily one (a weekly or monthly
# tier would keep an ad-hoc point for a year or seven).
ON_DEMAND_TIER = Tier.DAILY


class _EventModel(CamelModel):
    model_config = ConfigDict(extra="ignore")


class AlarmMetricRef(_EventModel):
    namespace: str
    name: str
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlarmMetricStat(_EventModel):
    metric: AlarmMetricRef


class AlarmMetric(_EventModel):
    """One entry of ``configuration.metrics``: a metric, or a metric-math expression over them."""

    id: str
    metric_stat: AlarmMetricStat | None = None
    expression: str | None = None


class AlarmConfiguration(_EventModel):
    description: str | None = None
    metrics: list[AlarmMetric] = Field(default_factory=list)


class AlarmState(_EventModel):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    timestamp: str


class AlarmDetail(_EventModel):
    alarm_name: str = Field(min_length=1)
    configuration: AlarmConfiguration
    state: AlarmState


class AlarmEvent(BaseModel):
    """The EventBridge "CloudWatch Alarm State Change" event (single-metric and metric-math)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    source: Literal["aws.cloudwatch"]
    account: str = Field(min_length=1)
    region: str = Field(min_length=1)
    resources: list[str] = Field(default_factory=list)
    time: datetime
    detail: AlarmDetail

    @property
    def metrics(self) -> list[AlarmMetricRef]:
        return [m.metric_stat.metric for m in self.detail.configuration.metrics if m.metric_stat]


class StartedBackup(CamelModel):
    resource_arn: str
    execution_arn: str
    duplicate: bool


class AlarmOutcome(CamelModel):
    alarm_name: str
    action: Literal["backup", "incident", "ignored", "nothing"]
    reason: str
    backups: list[StartedBackup] = Field(default_factory=list)
    incident_id: str | None = None


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def handle_alarm(event: AlarmEvent, deps: Deps) -> AlarmOutcome:
    """Decide what an alarm state change asks for and do it (at most once per window)."""
    name = event.detail.alarm_name
    prefix = _setting(ALARM_PREFIX_ENV)
    if not name.startswith(prefix):
        logger.warning("ignored an alarm Lifeboat does not own", extra={"alarm": name, "prefix": prefix})
        return AlarmOutcome(alarm_name=name, action="ignored", reason=f"not a Lifeboat alarm ({prefix}*)")
    foreign = _not_this_stacks(event)
    if foreign:
        logger.warning("ignored an alarm event from elsewhere", extra={"alarm": name, "why": foreign})
        return AlarmOutcome(alarm_name=name, action="ignored", reason=foreign)
    if event.detail.state.value != "ALARM":
        return AlarmOutcome(alarm_name=name, action="ignored", reason=f"state is {event.detail.state.value}")
    rpo = [m for m in event.metrics if m.namespace == LIFEBOAT_NAMESPACE and m.name in RPO_METRICS]
    if rpo:
        return _back_up_breaches(event, rpo, deps)
    return _open_incident(event, deps)


def _not_this_stacks(event: AlarmEvent) -> str | None:
    """Why the event is not about an alarm of this stack's account and region (None: it is).

    The stack's own state machine ARN names its account and region. An event from another
    account (a bus that accepts forwarded events) or region, or one whose ``resources`` do not
    name the alarm in this account, starts nothing.
    """
    machine = ResourceRef.parse(_setting(BACKUP_STATE_MACHINE_ENV))
    region, account = machine.region, machine.account_id
    alarm_arn = f"arn:{machine.partition}:cloudwatch:{region}:{account}:alarm:{event.detail.alarm_name}"
    if (event.account, event.region) != (account, region):
        return f"the event comes from account {event.account} in {event.region}, not this stack's"
    if alarm_arn not in event.resources:
        return f"the event does not name the alarm {alarm_arn}"
    return None


def _affected(rpo: list[AlarmMetricRef], deps: Deps) -> tuple[list[str], str]:
    named = sorted({m.dimensions["resource"] for m in rpo if "resource" in m.dimensions})
    if named:
        for arn in named:
            try:
                ResourceRef.parse(arn)
            except ValueError as exc:
                raise InvalidInput(f"alarm dimension resource={arn!r} is not a resource ARN: {exc}") from None
        return named, "the alarm names the resource"
    scopes = {
        key: {m.dimensions[key] for m in rpo if key in m.dimensions} for key in ("policy", "environment")
    }

    def in_scope(health: ResourceHealth) -> bool:
        return (not scopes["policy"] or health.policy in scopes["policy"]) and (
            not scopes["environment"] or health.environment.value in scopes["environment"]
        )

    described = ", ".join(f"{k}={'|'.join(sorted(v))}" for k, v in scopes.items() if v) or "any policy"
    breaches = sorted(h.resource_arn for h in health_state.breached(deps.store) if in_scope(h))
    return breaches, f"latest health snapshot: in breach under {described}"


def _back_up_breaches(event: AlarmEvent, rpo: list[AlarmMetricRef], deps: Deps) -> AlarmOutcome:
    name = event.detail.alarm_name
    arns, why = _affected(rpo, deps)
    if not arns:
        logger.info("RPO alarm but no resource in breach any more", extra={"alarm": name})
        return AlarmOutcome(alarm_name=name, action="nothing", reason=f"no resource in breach ({why})")
    backups = [_start_backup(arn, name, deps) for arn in arns]
    started = sum(not b.duplicate for b in backups)
    metrics.add_metric(name="AlarmBackupsStarted", unit=MetricUnit.Count, value=started)
    metrics.add_metric(name="AlarmDuplicatesSuppressed", unit=MetricUnit.Count, value=len(backups) - started)
    logger.info("RPO alarm handled", extra={"alarm": name, "backups": [b.model_dump() for b in backups]})
    return AlarmOutcome(
        alarm_name=name,
        action="backup",
        reason=f"{why}; {started} on-demand backup(s) started, {len(backups) - started} already started",
        backups=backups,
    )


def _start_backup(arn: str, alarm_name: str, deps: Deps) -> StartedBackup:
    """Claim the resource for the window, then start (or find) the claim's execution."""
    now = normalise_time(deps.now())
    key = f"alarm-backup:{arn}"
    execution_name = "alarm-" + recovery_point_id(arn, ON_DEMAND_TIER, now)
    payload = {
        "tier": ON_DEMAND_TIER.value,
        "scheduledAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [arn],
        "trigger": "alarm",
    }
    won = health_state.claim(
        deps.store,
        key,
        now=deps.now(),
        window=DEDUPE_WINDOW,
        record={
            "subjectArn": arn,
            "alarmName": alarm_name,
            "executionName": execution_name,
            "input": payload,
        },
    )
    if not won:
        held = health_state.read(deps.store, key)
        if held is None:  # the claim item was deleted between the two calls: claim afresh
            return _start_backup(arn, alarm_name, deps)
        execution_name, payload = str(held["executionName"]), dict(held["input"])
    # Also when the claim was held: StartExecution under the claim's name is idempotent, and it
    # starts the backup if the claimant crashed before starting it.
    execution_arn = _start_execution(execution_name, payload, deps)
    return StartedBackup(resource_arn=arn, execution_arn=execution_arn, duplicate=not won)


def _start_execution(name: str, payload: dict[str, Any], deps: Deps) -> str:
    """StartExecution under a deterministic name; an existing execution of that name is success."""
    machine = _setting(BACKUP_STATE_MACHINE_ENV)
    existing = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    try:
        with translated({"StateMachineDoesNotExist": ConfigError}, f"starting {name}"):
            started = deps.clients("stepfunctions", deps.region).start_execution(
                stateMachineArn=machine, name=name, input=json.dumps(payload)
            )
    except ClientError as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        return existing
    return str(started["executionArn"])


def _open_incident(event: AlarmEvent, deps: Deps) -> AlarmOutcome:
    name, state = event.detail.alarm_name, event.detail.state
    incident_id = f"incident:{name}:{state.timestamp}"
    created = health_state.record_incident(
        deps.store,
        incident_id,
        now=deps.now(),
        record={
            "alarmName": name,
            "reason": state.reason,
            "metrics": [f"{m.namespace}/{m.name} {m.dimensions}" for m in event.metrics],
        },
    )
    logger.warning("Lifeboat health alarm", extra={"alarm": name, "incident": incident_id, "new": created})
    return AlarmOutcome(
        alarm_name=name,
        action="incident",
        reason=("incident opened" if created else "incident already recorded")
        + "; the alarm's own action notified the topic",
        incident_id=incident_id,
    )
