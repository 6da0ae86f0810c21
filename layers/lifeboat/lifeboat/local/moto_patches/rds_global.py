"""Aurora Global Database in moto, made to move its writer as AWS does.

moto 5.2.5 creates global clusters and adds secondaries, but has neither
``SwitchoverGlobalCluster`` (planned: the target becomes the writer once in sync, no data lost)
nor ``FailoverGlobalCluster`` (unplanned: ``AllowDataLoss=True`` moves the writer whatever the
lag; with ``Switchover=True`` it is a switchover), and a global cluster made from an existing
cluster leaves that cluster a non-writer where AWS makes it the primary. Both APIs are added
here: they validate the request as AWS does (the global cluster exists, the target is one of its
secondaries), mark the target the writer and the old writer a reader, and answer the
``GlobalCluster``; AWS takes minutes, moto is instant. ``tests/unit/test_moto_global_cluster.py``
holds Lifeboat's requests to botocore's service model.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_rds_global"]


def _move_writer(response: Any, *, data_loss_allowed: bool) -> Any:
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError

    params = response.params
    global_id = params["GlobalClusterIdentifier"]
    target = params["TargetDbClusterIdentifier"]
    found = response.global_backend.global_clusters.get(global_id)
    if found is None:
        raise RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {global_id} not found.")
    members = {m.db_cluster_arn: m for m in found.members}
    member = members.get(target) or next(
        (m for m in found.members if m.db_cluster_identifier == target), None
    )
    if member is None:
        raise DBClusterNotFoundError(
            target, f"DBCluster {target} is not a member of global cluster {global_id}."
        )
    if member.is_writer:
        raise RDSClientError(
            "InvalidGlobalClusterStateFault", f"{target} is already the writer of global cluster {global_id}."
        )
    if not data_loss_allowed and any(m.status != "available" for m in found.members):
        raise RDSClientError(
            "InvalidGlobalClusterStateFault",
            f"a switchover of {global_id} needs every member available: use a failover with AllowDataLoss",
        )
    for other in found.members:
        other.is_writer = other is member
    return ActionResult({"GlobalCluster": found})


def _switchover(self: Any) -> Any:
    return _move_writer(self, data_loss_allowed=False)


def _failover(self: Any) -> Any:
    allow = str(self.params.get("AllowDataLoss", "false")).lower() == "true"
    switchover = str(self.params.get("Switchover", "false")).lower() == "true"
    if allow == switchover:
        from moto.rds.exceptions import InvalidParameterCombination

        raise InvalidParameterCombination("Specify exactly one of AllowDataLoss and Switchover.")
    return _move_writer(self, data_loss_allowed=allow)


def _source_is_writer(original: Any) -> Any:
    def create_global_cluster(self: Any, *args: Any, **kwargs: Any) -> Any:
        created = original(self, *args, **kwargs)
        if created.members and not any(m.is_writer for m in created.members):
            created.members[0].is_writer = True
        return created

    return create_global_cluster


def patch_rds_global(stack: ExitStack) -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    stack.enter_context(
        mock.patch.object(
            RDSBackend, "create_global_cluster", _source_is_writer(RDSBackend.create_global_cluster)
        )
    )
    for name, method in (("switchover_global_cluster", _switchover), ("failover_global_cluster", _failover)):
        if not hasattr(RDSResponse, name):
            stack.enter_context(mock.patch.object(RDSResponse, name, method, create=True))
