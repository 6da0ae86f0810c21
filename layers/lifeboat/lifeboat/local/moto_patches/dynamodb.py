"""DynamoDB in moto, made to answer as AWS does where Lifeboat depends on it.

- moto reports a backup's SSE settings where botocore drops them (not under
  ``SourceTableFeatureDetails``) and restores tables without them: report and keep them.
- ``ExportTableToPointInTime`` ignores ``S3SseAlgorithm``/``S3SseKmsKeyId`` and writes its data
  under a random folder: record the encryption asked for (on the export and on the objects
  written, reported by ``DescribeExport``) and write under ``AWSDynamoDB/<export id>/data/`` as
  AWS documents.
- ``ImportTable`` ignores ``SSESpecification``: give the imported table the encryption asked
  for, and refuse an existing table name as AWS does (moto fails such an import later).
- moto runs exports and imports in a background thread: run them in the calling request, so
  that an imported table exists when ``ImportTable`` returns, as on AWS.
- PITR's ``LatestRestorableDateTime`` stays where it was when PITR was turned on; on AWS it
  follows the clock (about five minutes behind): answer the time of the request, as moto's RDS
  does for its instances, so the health check's point-in-time RPO is measured, not frozen.
- moto has no global tables: ``UpdateTable`` with ``ReplicaUpdates`` (version 2019.11.21) records
  the replica regions on the table, which ``DescribeTable`` then lists under ``Replicas``
  (``ACTIVE``); the items are not copied (health reads the replicas and their lag only).
- moto starts a new export for every request: a repeated ``ClientToken`` gets back the export it
  started, as on AWS (a retried copy step must not export twice).

None of this makes moto check a KMS key: the local run shows which key Lifeboat asked for, not
that AWS would accept it.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_dynamodb"]


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


def _export_honours_client_token(original: Any) -> Any:
    """``DynamoDBBackend.export_table``: a request repeating a ClientToken gets back the export
    that token started, as AWS answers for 8 hours (moto starts a second export)."""

    def export_table(self: Any, **kwargs: Any) -> Any:
        token = _request_body().get("ClientToken")
        started = getattr(self, "_lifeboat_export_tokens", {})
        if token and token in started:
            return self.table_exports[started[token]]
        export = original(self, **kwargs)
        if token:
            self._lifeboat_export_tokens = started | {token: export.arn}
        return export

    return export_table


def _pitr_follows_the_clock(original: Any) -> Any:
    def describe_continuous_backups(self: Any, table_name: str) -> dict[str, Any]:
        from moto.core.utils import unix_time

        answer = dict(original(self, table_name))
        pitr = answer.get("PointInTimeRecoveryDescription") or {}
        if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
            answer["PointInTimeRecoveryDescription"] = pitr | {"LatestRestorableDateTime": unix_time()}
        return answer

    return describe_continuous_backups


_REPLICAS = "_lifeboat_replica_regions"


def _replica_updates(original: Any) -> Any:
    def update_table(self: Any) -> Any:
        updates = self.body.get("ReplicaUpdates")
        if not updates:
            return original(self)
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        regions: list[str] = list(getattr(table, _REPLICAS, []))
        for update in updates:
            if "Create" in update and update["Create"]["RegionName"] not in regions:
                regions.append(update["Create"]["RegionName"])
            if "Delete" in update and update["Delete"]["RegionName"] in regions:
                regions.remove(update["Delete"]["RegionName"])
        setattr(table, _REPLICAS, regions)
        rest = {k: v for k, v in self.body.items() if k != "ReplicaUpdates"}
        if set(rest) == {"TableName"}:
            from moto.dynamodb.responses import DynamoResult

            return DynamoResult(table.describe())
        self.body = rest
        return original(self)

    return update_table


def _lists_replicas(original: Any) -> Any:
    def describe(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original(self, *args, **kwargs)
        regions = getattr(self, _REPLICAS, [])
        if regions:
            key = next(iter(answer))
            answer[key]["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in regions]
        return answer

    return describe


def patch_dynamodb(stack: ExitStack) -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Backup, RestoredPITTable, RestoredTable, Table
    from moto.dynamodb.models.table_export import TableExport
    from moto.dynamodb.models.table_import import TableImport
    from moto.dynamodb.responses import DynamoHandler

    stack.enter_context(
        mock.patch.object(DynamoHandler, "update_table", _replica_updates(DynamoHandler.update_table))
    )
    stack.enter_context(mock.patch.object(Table, "describe", _lists_replicas(Table.describe)))
    stack.enter_context(
        mock.patch.object(
            DynamoDBBackend,
            "describe_continuous_backups",
            _pitr_follows_the_clock(DynamoDBBackend.describe_continuous_backups),
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
    stack.enter_context(mock.patch.object(TableExport, "response", _export_reports_sse(TableExport.response)))
    stack.enter_context(mock.patch.object(TableImport, "start", _import_now))
    stack.enter_context(
        mock.patch.object(
            DynamoDBBackend, "export_table", _export_honours_client_token(DynamoDBBackend.export_table)
        )
    )
