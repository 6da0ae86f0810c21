"""Aurora Global Database writer moves: Lifeboat's requests hold to botocore's service model
(Stubber validates every parameter), and local mode's added SwitchoverGlobalCluster and
FailoverGlobalCluster answer as AWS does (local/moto_patches/rds_global.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from lifeboat.aws import global_clusters
from lifeboat.local.runtime import LocalCloud

SOURCE = "arn:aws:rds:us-east-1:123456789012:cluster:ledger-aurora"
SECONDARY = "arn:aws:rds:us-west-2:123456789012:cluster:ledger-aurora-dr"
GLOBAL_ANSWER = {
    "GlobalCluster": {
        "GlobalClusterIdentifier": "ledger-global",
        "GlobalClusterMembers": [
            {"DBClusterArn": SOURCE, "IsWriter": False},
            {"DBClusterArn": SECONDARY, "IsWriter": True},
        ],
    }
}


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "rds", region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return client, Stubber(client)


def _secondary(is_writer: bool = False) -> global_clusters.Secondary:
    return global_clusters.Secondary(
        global_cluster_id="ledger-global",
        cluster_arn=SECONDARY,
        is_writer=is_writer,
        status="available",
        tags={},
        endpoint=None,
        port=None,
    )


@pytest.mark.parametrize(
    ("allow_data_loss", "operation", "params"),
    [
        (False, "switchover_global_cluster", {}),
        (True, "failover_global_cluster", {"AllowDataLoss": True}),
    ],
)
def test_the_writer_move_request_holds_to_the_service_model(
    allow_data_loss: bool, operation: str, params: dict[str, Any]
) -> None:
    client, stub = _stubbed()
    expected = {"GlobalClusterIdentifier": "ledger-global", "TargetDbClusterIdentifier": SECONDARY, **params}
    stub.add_response(operation, GLOBAL_ANSWER, expected)
    with stub:
        global_clusters.move_writer(lambda *_: client, _secondary(), allow_data_loss=allow_data_loss)
        stub.assert_no_pending_responses()


def test_a_secondary_that_is_the_writer_already_is_left_alone() -> None:
    client, stub = _stubbed()
    with stub:  # no response queued: any call would fail the test
        global_clusters.move_writer(lambda *_: client, _secondary(is_writer=True), allow_data_loss=False)


@pytest.fixture
def global_database() -> Iterator[tuple[LocalCloud, str]]:
    with LocalCloud() as cloud:
        east, west = cloud.client("rds"), cloud.client("rds", "us-west-2")
        source = east.create_db_cluster(
            DBClusterIdentifier="ledger-aurora",
            Engine="aurora-postgresql",
            MasterUsername="lifeboat",
            MasterUserPassword="not-a-real-password-1",
        )["DBCluster"]["DBClusterArn"]
        east.create_global_cluster(GlobalClusterIdentifier="ledger-global", SourceDBClusterIdentifier=source)
        secondary = west.create_db_cluster(
            DBClusterIdentifier="ledger-aurora-dr",
            Engine="aurora-postgresql",
            GlobalClusterIdentifier="ledger-global",
        )["DBCluster"]["DBClusterArn"]
        yield cloud, secondary


def _writers(cloud: LocalCloud) -> list[str]:
    found = cloud.client("rds", "us-west-2").describe_global_clusters()["GlobalClusters"][0]
    return [m["DBClusterArn"].rsplit(":", 1)[-1] for m in found["GlobalClusterMembers"] if m["IsWriter"]]


def test_local_mode_makes_the_source_the_writer_and_switches_over(
    global_database: tuple[LocalCloud, str],
) -> None:
    cloud, secondary = global_database
    assert _writers(cloud) == ["ledger-aurora"]
    west = cloud.client("rds", "us-west-2")
    west.switchover_global_cluster(
        GlobalClusterIdentifier="ledger-global", TargetDbClusterIdentifier=secondary
    )
    assert _writers(cloud) == ["ledger-aurora-dr"]
    # AND a second switchover to the writer is refused, as AWS refuses it
    with pytest.raises(ClientError, match="InvalidGlobalClusterStateFault"):
        west.switchover_global_cluster(
            GlobalClusterIdentifier="ledger-global", TargetDbClusterIdentifier=secondary
        )


def test_local_mode_refuses_what_aws_refuses(global_database: tuple[LocalCloud, str]) -> None:
    cloud, secondary = global_database
    west = cloud.client("rds", "us-west-2")
    with pytest.raises(ClientError, match="GlobalClusterNotFoundFault"):
        west.failover_global_cluster(
            GlobalClusterIdentifier="nope", TargetDbClusterIdentifier=secondary, AllowDataLoss=True
        )
    with pytest.raises(ClientError, match="DBClusterNotFoundFault"):
        west.switchover_global_cluster(
            GlobalClusterIdentifier="ledger-global", TargetDbClusterIdentifier="other"
        )
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        west.failover_global_cluster(
            GlobalClusterIdentifier="ledger-global", TargetDbClusterIdentifier=secondary
        )
    west.failover_global_cluster(
        GlobalClusterIdentifier="ledger-global", TargetDbClusterIdentifier=secondary, AllowDataLoss=True
    )
    assert _writers(cloud) == ["ledger-aurora-dr"]
