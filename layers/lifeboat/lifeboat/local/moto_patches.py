"""The few places local mode adjusts moto, each for a stated reason.

- Waits and Retry intervals sleep in real time in moto: scale them so a run with hour-long
  back-off budgets finishes in seconds (the ASL itself is unchanged).
- moto builds a new boto3 client for every Lambda task: cache them (about 3x faster Maps).
- moto's backends are not thread-safe: serialize its request handling (see below).
- moto lacks RDS ``DescribeAccountAttributes``: answer it from moto's own snapshot store, so
  the preflight's quota check runs the same code as on AWS.
- moto finishes a cross-region Aurora cluster snapshot copy at once and has no concurrent-copy
  limit: keep each such copy ``copying`` for its first ``COPY_POLLS`` describes and refuse a
  copy beyond ``AURORA_COPY_LIMIT`` in flight to one region with ``SnapshotQuotaExceeded``, as
  AWS does, so the workflow's Retry is what gets a large fleet's copies through.
- moto's EBS snapshot of an encrypted volume has no KMS key: give it the volume's, as AWS does,
  so level-1 validation checks the real key.
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


_moto_lock = threading.RLock()


def _serialized(call_action: Any) -> Any:
    def serialized_call_action(self: Any) -> Any:
        with _moto_lock:
            return call_action(self)

    return serialized_call_action


@contextmanager
def patched_moto(time_scale: float) -> Iterator[None]:
    import time

    from moto.core.responses import BaseResponse
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

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
        # moto's backends are plain dicts: at 1,000 concurrent Map iterations a describe that
        # iterates snapshots while another thread inserts one failed with "OrderedDict mutated
        # during iteration". AWS serves concurrent calls safely; serialize moto's handling.
        serialized = _serialized(BaseResponse.call_action)
        stack.enter_context(mock.patch.object(BaseResponse, "call_action", serialized))
        for name, wrap in (
            ("copy_db_cluster_snapshot", _limited_cluster_copy),
            ("describe_db_cluster_snapshots", _progressing_cluster_describe),
        ):
            stack.enter_context(mock.patch.object(RDSBackend, name, wrap(getattr(RDSBackend, name))))
        stack.enter_context(
            mock.patch.object(
                EBSBackend, "create_snapshot", _snapshot_keeps_volume_key(EBSBackend.create_snapshot)
            )
        )
        if not hasattr(RDSResponse, "describe_account_attributes"):
            stack.enter_context(
                mock.patch.object(
                    RDSResponse, "describe_account_attributes", _describe_account_attributes, create=True
                )
            )
        yield
