"""The real restore and drill workflows for the other resource types: an Aurora cluster restored
into its DR region (a new cluster plus its writer), and a drill of an EBS volume (a temporary
volume in the DR region, checked, then torn down)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lifeboat.aws.tags import tag_dict
from lifeboat.demo.fleet import DemoCluster, DemoFleet, DemoVolume, seed_demo_fleet
from lifeboat.domain.operations import OperationStatus
from lifeboat.local.runtime import LocalCloud

from .backup_support import FAST, point_of, run
from .restore_support import DAY2, WEST


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """GIVEN an encrypted prod Aurora cluster and an encrypted prod EBS volume (DR regions
    us-west-2 and eu-west-1), backed up by the real daily workflow."""
    log = tmp_path_factory.mktemp("restore-plugins") / "local.log"
    with LocalCloud(time_scale=FAST, log_file=log) as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=(),
            clusters=(DemoCluster("ledger-aurora", "prod", encrypted=True),),
            volumes=(DemoVolume("build-cache", "prod", encrypted=True),),
            tables=(),
            caches=(),
        )
        assert run(cloud, cloud.start_backup("daily", DAY2))["status"] == "SUCCEEDED"
        yield cloud, fleet


def _tags(described: dict[str, Any]) -> dict[str, str]:
    return tag_dict(described.get("TagList") or described.get("Tags"))


def test_an_aurora_cluster_restores_into_its_dr_region_as_a_new_cluster_with_a_writer(
    backed_up: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = backed_up
    arn = fleet.clusters["ledger-aurora"]
    # WHEN an operator restores ledger-aurora into us-west-2
    described = run(
        cloud,
        cloud.start_execution(
            "RestoreStateMachine",
            {"resourceArn": arn, "targetRegion": WEST, "targetIdentifier": "ledger-aurora-dr"},
        ),
    )
    # THEN the workflow succeeded and a new cluster exists in us-west-2, under that region's DR
    # key, protected from deletion (prod), from the newest point copied there
    assert described["status"] == "SUCCEEDED", described
    rds = cloud.client("rds", WEST)
    [cluster] = rds.describe_db_clusters(DBClusterIdentifier="ledger-aurora-dr")["DBClusters"]
    assert (cluster["StorageEncrypted"], cluster["KmsKeyId"]) == (True, fleet.keys[WEST])
    assert cluster["DeletionProtection"] is True
    assert _tags(cluster)["lifeboat:restored-from"] == point_of(arn, DAY2)
    # AND its writer is a private instance of that cluster
    [writer] = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["ledger-aurora-dr"]}])[
        "DBInstances"
    ]
    assert (writer["DBInstanceIdentifier"], writer["PubliclyAccessible"]) == ("ledger-aurora-dr-1", False)
    # AND the RESTORE operation succeeded with every level-1 check passed and a measured RTO
    operation = cloud.store().get(described["output"]["operationId"])
    assert operation is not None and operation.status is OperationStatus.SUCCEEDED
    checks = {c["name"]: c["passed"] for c in operation.details["checks"]}
    assert checks == {
        "available": True,
        "not_publicly_accessible": True,
        "encrypted": True,
        "kms_key": True,
        "engine": True,
        "deletion_protection": True,
        "lifeboat_tags": True,
    }
    assert operation.details["rtoSeconds"] > 0
    # AND the source region was not touched: only the source cluster is there
    source = cloud.client("rds").describe_db_clusters()["DBClusters"]
    assert [c["DBClusterIdentifier"] for c in source] == ["ledger-aurora"]


def test_an_ebs_volume_drill_restores_checks_and_tears_down_in_the_dr_region(
    backed_up: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = backed_up
    arn = fleet.volumes["build-cache"]
    # WHEN build-cache is drilled
    described = run(
        cloud, cloud.start_execution("DrillStateMachine", {"resources": [arn], "trigger": "manual"})
    )
    assert described["status"] == "SUCCEEDED", described
    [result] = described["output"]["results"]
    # THEN the drill passed in us-west-2 (the first DR region) with every level-1 check
    operation = cloud.store().get(result["operationId"])
    assert operation is not None
    assert (operation.status, operation.region, result["failedChecks"]) == (
        OperationStatus.SUCCEEDED,
        WEST,
        [],
    )
    checks = {c["name"]: (c["actual"], c["passed"]) for c in operation.details["checks"]}
    assert checks["kms_key"] == (fleet.keys[WEST], True)
    assert all(passed for _, passed in checks.values()), checks
    # AND the temporary volume was torn down: no drill volume is left in any region
    assert operation.details.get("tornDownAt")
    for region in ("us-east-1", WEST, "eu-west-1"):
        volumes = cloud.client("ec2", region).describe_volumes()["Volumes"]
        assert [v["VolumeId"] for v in volumes if _tags(v).get("lifeboat:purpose") == "drill"] == []
    # AND the copy it restored is marked restore-tested by this drill
    copy = cloud.store().get(f"copy:{point_of(arn, DAY2)}:{WEST}")
    assert copy is not None and copy.details["restoreTested"]["drill"] == result["operationId"]
