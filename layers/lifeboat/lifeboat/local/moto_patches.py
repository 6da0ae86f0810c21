"""The few places local mode adjusts moto, each for a stated reason.

- Waits and Retry intervals sleep in real time in moto: scale them so a run with hour-long
  back-off budgets finishes in seconds (the ASL itself is unchanged).
- moto builds a new boto3 client for every Lambda task: cache them (about 3x faster Maps).
- moto's backends are not thread-safe: serialize its request handling (see below).
- moto parses every new state machine's ASL (about a second each): parse a definition once per
  process; every emulated account creates the same ones, and executions parse them anyway.
- moto lacks RDS ``DescribeAccountAttributes``: answer it from moto's own snapshot store, so
  the preflight's quota check runs the same code as on AWS.
- moto finishes a cross-region Aurora cluster snapshot copy at once and has no concurrent-copy
  limit: keep each such copy ``copying`` for its first ``COPY_POLLS`` describes and refuse a
  copy beyond ``AURORA_COPY_LIMIT`` in flight to one region with ``SnapshotQuotaExceeded``, as
  AWS does, so the workflow's Retry is what gets a large fleet's copies through.
- moto's EBS snapshot of an encrypted volume has no KMS key: give it the volume's, as AWS does,
  so level-1 validation checks the real key.
- Aurora restores (the ``rds_cluster`` plugin's path): moto's ``CreateDBCluster`` and both
  cluster restores silently replace a cluster of the same identifier; refuse it with
  ``DBClusterAlreadyExistsFault`` as AWS does, so "never restore over an existing cluster" is
  tested against the API's answer. ``RestoreDBClusterFromSnapshot`` applies only truthy
  overrides, so ``DeletionProtection=False`` kept the source's protection; apply it, as AWS does
  (a drill of a protected cluster must be deletable). Both instance restores have the same flaw
  for ``DeletionProtection=False`` and ``PubliclyAccessible=False``: apply those too (a drill of
  a protected or public instance must come up private and deletable).
- DynamoDB (the ``dynamodb_table`` plugin's path): moto reports a backup's SSE settings where
  botocore drops them (not under ``SourceTableFeatureDetails``) and restores tables without
  them; report and keep them, as AWS does. ``ExportTableToPointInTime`` ignores
  ``S3SseAlgorithm``/``S3SseKmsKeyId`` and writes its data under a random folder: record the
  encryption asked for (on the export and on the objects written, reported by
  ``DescribeExport``) and write under ``AWSDynamoDB/<export id>/data/`` as AWS documents.
  ``ImportTable`` ignores ``SSESpecification``: give the imported table the encryption asked
  for, and refuse an existing table name as AWS does (moto fails such an import later). moto
  runs exports and imports in a background thread; run them in the calling request, so that
  an imported table exists when ``ImportTable`` returns, as on AWS. None of this makes
  moto check a KMS key: the local run shows which key Lifeboat asked for, not that AWS would
  accept it.
- ElastiCache (the ``elasticache_redis`` plugin's path): moto files replication groups under
  the Resource Groups Tagging API type ``elasticache:replication-group``; AWS's is
  ``elasticache:replicationgroup``, which discovery asks for: report AWS's. AWS creates a cache
  cluster per node of a replication group, and only those clusters report the engine version,
  subnet group, security groups and parameter group (``DescribeCacheClusters``); moto only names
  them: create them from the group's settings. moto keeps a deleted replication group
  ``deleting`` forever, so a drill's teardown (which waits until its group is gone) never ends:
  remove the group and its clusters once the delete is answered, as AWS does when it is done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

# AWS: at most 5 concurrent cross-region DB cluster snapshot copies per destination region.
AURORA_COPY_LIMIT = 5
# Describes during which an emulated cross-region cluster copy still reports ``copying``.
COPY_POLLS = 2
_POLLS_LEFT = "_lifeboat_polls_left"
_copy_lock = threading.Lock()


class _ScaledTime:
    def __init__(self, real: Any, scale: float) -> None:
        self._real, self._scale = real, scale

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _describe_account_attributes(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backend
    manual = [s for s in backend.database_snapshots.values() if s.snapshot_type == "manual"]
    manual_cluster = [s for s in backend.cluster_snapshots.values() if s.snapshot_type == "manual"]
    return ActionResult(
        {
            "AccountQuotas": [
                {"AccountQuotaName": "ManualSnapshots", "Used": len(manual), "Max": backend.SNAPSHOT_QUOTA},
                {
                    "AccountQuotaName": "ManualClusterSnapshots",
                    "Used": len(manual_cluster),
                    "Max": backend.SNAPSHOT_QUOTA,
                },
            ]
        }
    )


def _limited_cluster_copy(original: Any) -> Any:
    def copy_db_cluster_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.rds.exceptions import RDSClientError

        source = str(kwargs.get("source_db_cluster_snapshot_identifier", args[0] if args else ""))
        if not source.startswith("arn:") or f":{self.region_name}:" in source:
            return original(self, *args, **kwargs)
        with _copy_lock:
            copying = [s for s in self.cluster_snapshots.values() if s.status == "copying"]
            if len(copying) >= AURORA_COPY_LIMIT:
                raise RDSClientError(
                    "SnapshotQuotaExceeded",
                    f"{len(copying)} cross-region DB cluster snapshot copies to {self.region_name} "
                    f"are in progress (limit {AURORA_COPY_LIMIT})",
                )
            snapshot = original(self, *args, **kwargs)
            snapshot.status = "copying"
            setattr(snapshot, _POLLS_LEFT, COPY_POLLS)
            return snapshot

    return copy_db_cluster_snapshot


def _snapshot_keeps_volume_key(original: Any) -> Any:
    def create_snapshot(self: Any, volume_id: str, *args: Any, **kwargs: Any) -> Any:
        snapshot = original(self, volume_id, *args, **kwargs)
        if snapshot.encrypted and snapshot.kms_key_id is None:
            snapshot.kms_key_id = self.get_volume(volume_id).kms_key_id
        return snapshot

    return create_snapshot


def _unique_cluster_ids(original: Any) -> Any:
    def create_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
        from moto.rds.exceptions import RDSClientError

        identifier = str(kwargs["db_cluster_identifier"]).lower()
        if any(existing.lower() == identifier for existing in self.clusters):
            raise RDSClientError("DBClusterAlreadyExistsFault", f"DB cluster {identifier} already exists")
        return original(self, kwargs)

    return create_db_cluster


def _restore_keeps_deletion_protection_off(original: Any) -> Any:
    def restore_db_cluster_from_snapshot(self: Any, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
        cluster = original(self, from_snapshot_id, overrides)
        if "deletion_protection" in overrides:
            cluster.deletion_protection = bool(overrides["deletion_protection"])
        return cluster

    return restore_db_cluster_from_snapshot


def _instance_restore_keeps_false_overrides(original: Any) -> Any:
    """moto applies only truthy overrides to a restored instance: apply explicit False too."""

    def restore(self: Any, *args: Any) -> Any:
        overrides: dict[str, Any] = args[-1]
        instance = original(self, *args)
        for name in ("deletion_protection", "publicly_accessible"):
            if overrides.get(name) is False:
                setattr(instance, name, False)
        return instance

    return restore


def _progressing_cluster_describe(original: Any) -> Any:
    def describe_db_cluster_snapshots(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshots = original(self, *args, **kwargs)
        with _copy_lock:
            for snapshot in snapshots:
                left = getattr(snapshot, _POLLS_LEFT, None)
                if left == 0:
                    snapshot.status = "available"
                    delattr(snapshot, _POLLS_LEFT)
                elif left is not None:
                    setattr(snapshot, _POLLS_LEFT, left - 1)
        return snapshots

    return describe_db_cluster_snapshots


def _tagging_type_of_replication_groups(original: Any) -> Any:
    def iter_tagged_resources(self: Any) -> Iterator[Any]:
        for resource in original(self):
            if resource.resource_type == "elasticache:replication-group":
                resource.resource_type = "elasticache:replicationgroup"
            yield resource

    return iter_tagged_resources


def _replication_group_members(original: Any) -> Any:
    def create_replication_group(self: Any, **kwargs: Any) -> Any:
        import inspect

        from moto.elasticache.models import CacheCluster

        group = original(self, **kwargs)
        unset = {name: None for name in inspect.signature(CacheCluster.__init__).parameters if name != "self"}
        for member in group.member_clusters:
            cluster = CacheCluster(
                **unset
                | {
                    "account_id": self.account_id,
                    "region_name": self.region_name,
                    "cache_cluster_id": member,
                    "replication_group_id": group.replication_group_id,
                    "cache_node_type": group.cache_node_type,
                    "engine": group.engine,
                    "engine_version": group.engine_version,
                    "cache_subnet_group_name": group.cache_subnet_group_name,
                    "transit_encryption_enabled": group.transit_encryption_enabled,
                    "log_delivery_configurations": [],
                }
            )
            cluster.security_groups = [
                {"SecurityGroupId": g, "Status": "active"} for g in group.security_group_ids or []
            ]
            if group.cache_parameter_group_name:
                cluster.cache_parameter_group = {
                    "CacheParameterGroupName": group.cache_parameter_group_name,
                    "ParameterApplyStatus": "in-sync",
                }
            self.cache_clusters[member] = cluster
        return group

    return create_replication_group


def _replication_group_deletion_completes(original: Any) -> Any:
    def delete_replication_group(
        self: Any, replication_group_id: str, retain_primary_cluster: bool | None
    ) -> Any:
        found = self.replication_groups.get(replication_group_id)
        members = list(found.member_clusters) if found else []
        group = original(self, replication_group_id, retain_primary_cluster)
        if not retain_primary_cluster:
            del self.replication_groups[replication_group_id]
            for member in members:
                self.cache_clusters.pop(member, None)
        return group

    return delete_replication_group


# The request being served, for the DynamoDB export/import models, which moto builds without
# the fields Lifeboat relies on (encryption). Requests are serialized (see below).
_dynamodb_request = threading.local()


def _remember_request(original: Any) -> Any:
    def handler(self: Any) -> Any:
        _dynamodb_request.body = self.body
        try:
            return original(self)
        finally:
            _dynamodb_request.body = None

    return handler


def _request_body() -> dict[str, Any]:
    return getattr(_dynamodb_request, "body", None) or {}


def _backup_reports_sse(original: property) -> property:
    def description(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(self)  # type: ignore[misc]
        sse = result["SourceTableDetails"].get("SSEDescription")
        if sse:
            result["SourceTableFeatureDetails"] = {"SSEDescription": sse}
        return result

    return property(description)


def _restore_keeps_sse(original: Any) -> Any:
    def parse_params(self: Any, source: Any) -> dict[str, Any]:
        import copy

        params: dict[str, Any] = original(self, source)
        table = getattr(source, "table", source)  # a Backup holds a copy of its table
        params["sse_specification"] = copy.deepcopy(table.sse_specification)
        return params

    return parse_params


def _export_now(self: Any) -> None:
    """Replaces ``TableExport.start``: keep the requested encryption, export in this request."""
    from moto.core.utils import utcnow

    body = _request_body()
    self.lifeboat_sse = (body.get("S3SseAlgorithm"), body.get("S3SseKmsKeyId"))
    self.lifeboat_started = utcnow()
    self.run()
    self.lifeboat_ended = utcnow()


def _export_like_aws(self: Any, s3_backend: Any) -> None:
    """Replaces ``TableExport._backup_to_s3_file``: AWS's layout, the requested encryption."""
    import uuid

    from moto.core.utils import gzip_compress
    from moto.dynamodb.models.utilities import dynamo_json_dump

    lines = [dynamo_json_dump(item.to_json(root_attr_name="Item")) for item in self.table.all_items()]
    data = "\n".join(lines).encode("utf-8")
    algorithm, key_id = getattr(self, "lifeboat_sse", (None, None))
    export_id = self.arn.rsplit("/", 1)[-1]
    s3_backend.put_object(
        bucket_name=self.s3_bucket,
        key_name=f"{self.s3_prefix}/AWSDynamoDB/{export_id}/data/{uuid.uuid4().hex}.json.gz",
        value=gzip_compress(data),
        encryption="aws:kms" if algorithm == "KMS" else "AES256",
        kms_key_id=key_id if algorithm == "KMS" else None,
    )
    self.item_count, self.processed_bytes = len(lines), len(data)
    self.status = "COMPLETED"


def _export_reports_sse(original: Any) -> Any:
    def response(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original(self)
        algorithm, key_id = getattr(self, "lifeboat_sse", (None, None))
        started = getattr(self, "lifeboat_started", None)
        extra = {
            "S3SseAlgorithm": algorithm,
            "S3SseKmsKeyId": key_id,
            "ExportTime": started,
            "StartTime": started,
            "EndTime": getattr(self, "lifeboat_ended", None),
        }
        return result | {k: v for k, v in extra.items() if v is not None}

    return response


def _import_now(self: Any) -> None:
    """Replaces ``TableImport.start``: import in this request, with the encryption asked for.

    AWS refuses an import into an existing table name; moto would start it and fail it later.
    """
    from moto.dynamodb.exceptions import ResourceInUseException
    from moto.dynamodb.models import dynamodb_backends

    if self.table_name in dynamodb_backends[self.account_id][self.region_name].tables:
        raise ResourceInUseException(f"Table already exists: {self.table_name}")
    sse = (_request_body().get("TableCreationParameters") or {}).get("SSESpecification")
    self.run()
    if self.table is not None and sse and sse.get("Enabled"):
        self.table.sse_specification = dict(sse)


_moto_lock = threading.RLock()
# ASL definitions moto has already parsed in this process: parsing one takes about a second and
# every emulated account creates the same state machines (executions parse them again anyway).
_validated_definitions: set[str] = set()


def _validate_once(validate: Any) -> Any:
    def validate_once(definition: str) -> None:
        if definition not in _validated_definitions:
            validate(definition)
            _validated_definitions.add(definition)

    return staticmethod(validate_once)


def _serialized(call_action: Any) -> Any:
    def serialized_call_action(self: Any) -> Any:
        with _moto_lock:
            return call_action(self)

    return serialized_call_action


@contextmanager
def patched_moto(time_scale: float) -> Iterator[None]:
    import time

    from moto.core.responses import BaseResponse
    from moto.dynamodb.models.table import Backup, RestoredPITTable, RestoredTable
    from moto.dynamodb.models.table_export import TableExport
    from moto.dynamodb.models.table_import import TableImport
    from moto.dynamodb.responses import DynamoHandler
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.elasticache.models import ElastiCacheBackend
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_wait = WaitFunction._wait_interval
    original_client_for = lambda_eval_utils.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        original_wait(self, env, wait_seconds * time_scale)

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original_client_for(region, service, state_credentials)
            return clients[(region, service)]

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledTime(time, time_scale)))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", scaled_wait))
        stack.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", cached_client_for))
        validate = StepFunctionsParserBackend._validate_definition
        stack.enter_context(
            mock.patch.object(StepFunctionsParserBackend, "_validate_definition", _validate_once(validate))
        )
        # moto's backends are plain dicts: at 1,000 concurrent Map iterations a describe that
        # iterates snapshots while another thread inserts one failed with "OrderedDict mutated
        # during iteration". AWS serves concurrent calls safely; serialize moto's handling.
        serialized = _serialized(BaseResponse.call_action)
        stack.enter_context(mock.patch.object(BaseResponse, "call_action", serialized))
        for name, wrap in (
            ("copy_db_cluster_snapshot", _limited_cluster_copy),
            ("describe_db_cluster_snapshots", _progressing_cluster_describe),
            ("create_db_cluster", _unique_cluster_ids),
            ("restore_db_cluster_from_snapshot", _restore_keeps_deletion_protection_off),
            ("restore_db_instance_from_db_snapshot", _instance_restore_keeps_false_overrides),
            ("restore_db_instance_to_point_in_time", _instance_restore_keeps_false_overrides),
        ):
            stack.enter_context(mock.patch.object(RDSBackend, name, wrap(getattr(RDSBackend, name))))
        stack.enter_context(
            mock.patch.object(
                EBSBackend, "create_snapshot", _snapshot_keeps_volume_key(EBSBackend.create_snapshot)
            )
        )
        for handler in ("export_table_to_point_in_time", "import_table"):
            original = getattr(DynamoHandler, handler)
            stack.enter_context(mock.patch.object(DynamoHandler, handler, _remember_request(original)))
        stack.enter_context(mock.patch.object(Backup, "description", _backup_reports_sse(Backup.description)))
        for restored, parse in (
            (RestoredTable, "_parse_params_from_backup"),
            (RestoredPITTable, "_parse_params_from_table"),
        ):
            original = getattr(restored, parse)
            stack.enter_context(mock.patch.object(restored, parse, _restore_keeps_sse(original)))
        stack.enter_context(mock.patch.object(TableExport, "start", _export_now))
        stack.enter_context(mock.patch.object(TableExport, "_backup_to_s3_file", _export_like_aws))
        stack.enter_context(
            mock.patch.object(TableExport, "response", _export_reports_sse(TableExport.response))
        )
        stack.enter_context(mock.patch.object(TableImport, "start", _import_now))
        for name, wrap in (
            ("iter_tagged_resources", _tagging_type_of_replication_groups),
            ("create_replication_group", _replication_group_members),
            ("delete_replication_group", _replication_group_deletion_completes),
        ):
            original = getattr(ElastiCacheBackend, name)
            stack.enter_context(mock.patch.object(ElastiCacheBackend, name, wrap(original)))
        if not hasattr(RDSResponse, "describe_account_attributes"):
            stack.enter_context(
                mock.patch.object(
                    RDSResponse, "describe_account_attributes", _describe_account_attributes, create=True
                )
            )
        yield
