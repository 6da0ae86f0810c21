"""An emulated AWS account that runs Lifeboat's real workflows in-process."""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock

import boto3

from lifeboat.aws.clients import default_clients
from lifeboat.local.dataplane import LocalDataPlane
from lifeboat.local.eventbridge import envelope
from lifeboat.local.execution_alarms import (
    FAILURE_METRICS,
    EndedExecution,
    alarm_notifications,
    notify_execution_ended,
    status_change,
)
from lifeboat.local.faults import FaultInjector, FaultPlan
from lifeboat.local.lambda_emulation import LambdaContext, LambdaEmulator
from lifeboat.local.moto_patches import patched_moto
from lifeboat.local.point_events import PointEvents
from lifeboat.local.stream_filters import event_rules, matches, resolved
from lifeboat.local.template import FunctionSpec, Template, apply_input_transformer, load_template
from lifeboat.service.completion import EVENT_REGIONS_ENV
from lifeboat.service.deps import deps_from_env
from lifeboat.state.store import StateStore, from_item

ACCOUNT_ID = "123456789012"
STACK = "lifeboat-local"
CONFIG_PARAMETER = "/lifeboat/local/config"
DEFAULT_TIME_SCALE = 0.001


class UnresolvedPlaceholder(ValueError):
    """A state machine still holds a ``${...}`` after substitution."""


def render_definition(text: str, substitutions: dict[str, str]) -> str:
    """Fill DefinitionSubstitutions; any ``${`` left over is an error, never shipped."""
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    leftover = sorted(set(re.findall(r"\$\{[^}]*\}", text)))
    if leftover:
        raise UnresolvedPlaceholder(f"unresolved placeholders: {', '.join(leftover)}")
    return text


class ApiMeter:
    """Counts every AWS API call made through the default session, by service and operation."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1


class LocalCloud:
    """moto plus our handlers: ``with LocalCloud() as cloud: cloud.start_backup("daily")``."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        time_scale: float = DEFAULT_TIME_SCALE,
        template: Template | None = None,
        log_file: Path | None = None,
        databases: bool = False,
    ) -> None:
        """``databases``: back RDS instances with real PostgreSQL databases (local/dataplane.py)."""
        self.region = region
        self.databases = databases
        self.data_plane: LocalDataPlane | None = None
        self.time_scale = time_scale
        self.template = template or load_template()
        self.log_file = log_file or self.template.root / ".lifeboat" / "local.log"
        self.meter = ApiMeter()
        self._stack = ExitStack()
        self.state_machines: dict[str, str] = {}
        self.table_name = f"{STACK}-state"

    # --- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        from moto import mock_aws

        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._stack.enter_context(mock.patch.dict(os.environ, self._environment()))
        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        self._stack.enter_context(patched_moto(self.time_scale))
        self._stack.callback(self._reset_caches)
        self._reset_caches()
        from lifeboat.observability import send_logs_to

        self._stack.enter_context(send_logs_to(self.log_file))
        self._stack.enter_context(_moto_logs_to(self.log_file))
        self.lambdas = LambdaEmulator(self._function_specs())
        events: Any = boto3._get_default_session().events  # the session moto's tasks use too
        events.register("before-call.lambda.Invoke", self.lambdas.before_call)
        events.register("before-call", self.meter)
        self._stack.callback(events.unregister, "before-call.lambda.Invoke", self.lambdas.before_call)
        self._stack.callback(events.unregister, "before-call", self.meter)
        # Snapshots and copies that take time (point_events.times) and announce their end.
        self.point_events = PointEvents(self.deliver_event, ACCOUNT_ID, self.time_scale)
        self.point_events.register(events)
        self._stack.callback(self.point_events.unregister, events)
        if self.databases:
            self.data_plane = LocalDataPlane(self.template.root / ".lifeboat" / "pg", ACCOUNT_ID)
            self.data_plane.start()
            self._stack.callback(self.data_plane.stop)
        self._create_state_table()
        self._create_failure_topic()
        self._create_bucket()
        for logical_id in self.template.of_type("AWS::Serverless::StateMachine"):
            self._create_state_machine(logical_id)
        notify_execution_ended(self._stack, self._execution_ended)
        os.environ.update(self._function_environment())
        # Local mode stands for a stack whose DR regions all forward their completion events.
        os.environ[EVENT_REGIONS_ENV] = "*"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def _environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "STATE_TABLE_NAME": self.table_name,
            "LIFEBOAT_CONFIG_PARAMETER": CONFIG_PARAMETER,
            "LIFEBOAT_ENVIRONMENT": "local",
            "POWERTOOLS_SERVICE_NAME": "lifeboat",
            "POWERTOOLS_METRICS_NAMESPACE": "Lifeboat",
            # EMF lines would interleave with the demo's output; Lambda publishes them on AWS.
            "POWERTOOLS_METRICS_DISABLED": "true",
        }

    @staticmethod
    def _reset_caches() -> None:
        default_clients.clear()
        deps_from_env.cache_clear()

    def client(self, service: str, region: str | None = None) -> Any:
        return default_clients(service, region or self.region)

    def function_arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{STACK}-{logical_id}"

    def _function_specs(self) -> dict[str, FunctionSpec]:
        return {self.function_arn(k): spec for k, spec in self.template.functions().items()}

    # --- resources the template defines ------------------------------------------------
    def _create_state_table(self) -> None:
        """Create the table from template.yaml's StateTable properties (the same definition)."""
        props = self.template.table_properties()
        key = self.client("kms").create_key(Description="lifeboat local state table key")["KeyMetadata"]
        sse = props["SSESpecification"]
        ddb = self.client("dynamodb")
        ddb.create_table(
            TableName=self.table_name,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
            BillingMode=props["BillingMode"],
            StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
            SSESpecification={
                "Enabled": sse["SSEEnabled"],
                "SSEType": sse["SSEType"],
                "KMSMasterKeyId": key["Arn"],
            },
        )
        ddb.update_time_to_live(
            TableName=self.table_name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
        )
        ddb.update_continuous_backups(
            TableName=self.table_name,
            PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"],
        )

    def _create_failure_topic(self) -> None:
        self.failure_topic_arn: str = self.client("sns").create_topic(Name=f"{STACK}-failures")["TopicArn"]
        sqs = self.client("sqs")
        self._inbox_url = sqs.create_queue(QueueName=f"{STACK}-failure-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=self._inbox_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.client("sns").subscribe(TopicArn=self.failure_topic_arn, Protocol="sqs", Endpoint=inbox_arn)

    def _create_bucket(self) -> None:
        """The stack's bucket of work files (its name as the template gives it, locally)."""
        name = self.template.resources["LifeboatBucket"]["Properties"]["BucketName"]
        self.bucket: str = self._parameter_value(name) or ""
        if not self.bucket:
            raise UnresolvedPlaceholder(f"local mode cannot resolve the bucket name {name!r}")
        self.client("s3").create_bucket(Bucket=self.bucket)

    def _resolve(self, value: Any) -> str:
        """The local value of a DefinitionSubstitution (a !GetAtt or !Ref in the template)."""
        if isinstance(value, str):
            return value
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if logical_id in self.template.of_type("AWS::Serverless::Function") and attribute == "Arn":
                return self.function_arn(logical_id)
            if logical_id == "StateTable" and attribute == "Arn":
                return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{self.table_name}"
        created = {
            "FailureTopic": self.failure_topic_arn,
            "LifeboatBucket": self.bucket,
            **self.state_machines,
        }
        if value.get("Ref") in created:
            return created[value["Ref"]]
        literal = self._parameter_value(value)
        if literal is not None:
            return literal
        raise UnresolvedPlaceholder(f"local mode cannot resolve substitution {value!r}")

    def _parameter_value(self, value: dict[str, Any]) -> str | None:
        """``!Ref Parameter`` (its default) or a ``!Sub`` of parameters and pseudo parameters."""
        parameters = self.template.body.get("Parameters", {})
        if value.get("Ref") in parameters:
            return str(parameters[value["Ref"]]["Default"])
        if not isinstance(value.get("Fn::Sub"), str):
            return None
        known = {f"${{{name}}}": str(p.get("Default")) for name, p in parameters.items()}
        known |= {
            "${AWS::Region}": self.region,
            "${AWS::AccountId}": ACCOUNT_ID,
            "${AWS::Partition}": "aws",
        }
        text = str(value["Fn::Sub"])
        for placeholder, replacement in known.items():
            text = text.replace(placeholder, replacement)
        return None if "${" in text else text

    def _function_environment(self) -> dict[str, str]:
        """The functions' own Environment.Variables (all functions share this process's env).

        A value local mode cannot resolve is left out and logged, not guessed.
        """
        resolved: dict[str, str] = {}
        shared = self.template.body.get("Globals", {}).get("Function", {}).get("Environment", {})
        local = self._environment()  # the globals local mode names itself (the table, the config)
        defined = {"Globals": {k: v for k, v in shared.get("Variables", {}).items() if k not in local}}
        for logical_id, resource in self.template.of_type("AWS::Serverless::Function").items():
            defined[logical_id] = resource["Properties"].get("Environment", {}).get("Variables", {})
        for logical_id, variables in defined.items():
            for name, value in variables.items():
                try:
                    resolved[name] = self._resolve(value)
                except UnresolvedPlaceholder:
                    logging.getLogger(__name__).warning("%s: %s not set locally", logical_id, name)
        return resolved

    def _create_state_machine(self, logical_id: str) -> None:
        text, substitutions = self.template.state_machine(logical_id)
        definition = render_definition(text, {k: self._resolve(v) for k, v in substitutions.items()})
        created = self.client("stepfunctions").create_state_machine(
            name=f"{STACK}-{logical_id}",
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK}-{logical_id}",
        )
        self.state_machines[logical_id] = str(created["stateMachineArn"])

    def _execution_ended(self, ended: EndedExecution) -> None:
        """A FAILED or TIMED_OUT execution sets off the template's alarms on it, and every ended
        execution's status change reaches the template's rules, as on AWS."""
        if ended.status in FAILURE_METRICS:
            self._alarm(ended)
        try:
            self.deliver_event(status_change(ended, ACCOUNT_ID, self.region))
        except Exception:  # an asynchronous target's failure never touches the execution
            logging.getLogger(__name__).exception("status change of %s not handled", ended.execution_arn)

    def _alarm(self, ended: EndedExecution) -> None:
        logical_id = next((k for k, v in self.state_machines.items() if v == ended.state_machine_arn), None)
        alarms = alarm_notifications(
            self.template.resources, logical_id or "", ended, self._resolve, self.region
        )
        for topic, notification in alarms:
            self.client("sns").publish(TopicArn=topic, **notification)

    # --- configuration and triggers --------------------------------------------------------
    def put_config(self, document: dict[str, Any]) -> None:
        """Store the policy config where the handlers read it (SSM), replacing any previous one."""
        self.client("ssm").put_parameter(
            Name=CONFIG_PARAMETER, Value=json.dumps(document), Type="String", Overwrite=True
        )
        self._reset_caches()

    def start_execution(self, logical_id: str, payload: dict[str, Any], name: str | None = None) -> str:
        # Always name executions: moto would otherwise name every one "None" and refuse the second.
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machines[logical_id],
            input=json.dumps(payload),
            name=name or f"{logical_id}-{uuid.uuid4().hex[:16]}",
        )
        return str(started["executionArn"])

    def start_backup(
        self, tier: str, scheduled_at: datetime | None = None, resources: list[str] | None = None
    ) -> str:
        payload: dict[str, Any] = {"tier": tier, "trigger": "manual"}
        if scheduled_at is not None:
            payload["scheduledAt"] = scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if resources is not None:
            payload["resources"] = resources
        return self.start_execution("BackupStateMachine", payload)

    def scheduled_event(self, rule_name: str, at: datetime, event_id: str) -> dict[str, Any]:
        """The event EventBridge delivers when the schedule rule ``rule_name`` fires at ``at``."""
        return envelope(
            "Scheduled Event",
            "aws.events",
            account=ACCOUNT_ID,
            region=self.region,
            resources=[f"arn:aws:events:{self.region}:{ACCOUNT_ID}:rule/{rule_name}"],
            detail={},
            at=at,
            event_id=event_id,
        )

    def deliver_schedule(self, rule_logical_id: str, at: datetime) -> str:
        """Do what EventBridge does when a schedule rule fires (moto never fires them)."""
        rule = self.template.schedule_rules()[rule_logical_id]
        target = rule["Targets"][0]
        event = self.scheduled_event(
            rule_logical_id, at, f"local-{rule_logical_id}-{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        )
        payload = apply_input_transformer(target["InputTransformer"], event)
        machine = target["Arn"]["Ref"] if isinstance(target["Arn"], dict) else target["Arn"]
        return self.start_execution(machine, payload)

    def deliver_event(self, event: dict[str, Any]) -> None:
        """Do what EventBridge does with an event: invoke each function whose rule matches it."""
        for logical_id, resource in self.template.of_type("AWS::Serverless::Function").items():
            if any(matches(resolved(pattern, self._resolve), event) for pattern in event_rules(resource)):
                self.invoke_function(logical_id, event)

    @contextmanager
    def faults(self, plan: FaultPlan) -> Iterator[FaultInjector]:
        """AWS faults (local/faults.py) for the duration of the block, on fresh clients."""
        injector = FaultInjector(plan)
        with injector.active(boto3._get_default_session().events):
            self._reset_caches()
            self.lambdas.times_out_after_work = injector.lambda_times_out
            try:
                yield injector
            finally:
                self.lambdas.times_out_after_work = None
                self._reset_caches()

    def invoke_function(self, logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke one of the template's functions as its trigger (rule, stream, alarm) would.

        Raises the handler's exception, as a synchronous invoke reports a function error.
        """
        arn = self.function_arn(logical_id)
        self.lambdas.invocations[arn.rsplit(":", 1)[-1]] += 1
        context = LambdaContext(arn.rsplit(":", 1)[-1], arn, str(uuid.uuid4()))
        return dict(self.lambdas.handler_for(arn)(event, context))

    def wait(self, execution_arn: str, timeout: float = 300.0) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return dict(described)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout}s")
            time.sleep(0.05)

    def notifications(self) -> list[dict[str, Any]]:
        """SNS messages published to the failure topic so far (drains the local inbox)."""
        sqs, found = self.client("sqs"), list[dict[str, Any]]()
        while True:
            batch = sqs.receive_message(QueueUrl=self._inbox_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self._inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def store(self) -> StateStore:
        return StateStore(self.table_name, self.client("dynamodb"))

    def operations(self) -> list[dict[str, Any]]:
        """Every item of the state table but the copy gate's and the stopped runs' (local
        inspection; the workflow itself never scans)."""
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=self.table_name)
        items = [from_item(item) for page in pages for item in page["Items"]]
        return [i for i in items if not str(i["operationId"]).startswith(("copy-gate:", "stopped-run:"))]


@contextmanager
def _moto_logs_to(path: Path) -> Iterator[None]:
    """moto logs every caught workflow error at ERROR; keep that in the log file, not the terminal."""
    moto_logger = logging.getLogger("moto")
    handler = logging.FileHandler(path)
    saved = (moto_logger.handlers[:], moto_logger.propagate)
    moto_logger.handlers, moto_logger.propagate = [handler], False
    try:
        yield
    finally:
        moto_logger.handlers, moto_logger.propagate = saved
        handler.close()
