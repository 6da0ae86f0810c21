"""The demo fleet's failover experiments (``lifeboat experiment run NAME --local``).

orders-db made Multi-AZ and ledger-aurora given a writer and a reader, both opted in
(``lifeboat:experiments=allowed``); a stop alarm on the orders application's errors; four
experiments in the config: a reboot with failover (that alarm as its stop condition), an Aurora
cluster failover (rolled back), a replica promotion drill in us-west-2, and a critical reboot.
"""

from __future__ import annotations

from lifeboat.demo.fleet import DemoFleet
from lifeboat.domain.experiments import OPT_IN_TAG, OPT_IN_VALUE
from lifeboat.local.runtime import LocalCloud

STOP_ALARM = "orders-db-errors"
DRILL_REGION = "us-west-2"
AURORA_MEMBERS = ("ledger-aurora-1", "ledger-aurora-2")


def prepare_experiments(cloud: LocalCloud, fleet: DemoFleet) -> dict[str, dict[str, object]]:
    """The demo's experiments, stored in the config (which is returned)."""
    rds = cloud.client("rds")
    orders = fleet.instances["orders-db"]
    opted_in = [orders]
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", MultiAZ=True, ApplyImmediately=True)
    experiments: dict[str, dict[str, object]] = {
        "orders-reboot": {"kind": "rds-reboot-failover", "resourceArn": orders, "stopAlarms": [STOP_ALARM]},
        "orders-promotion": {
            "kind": "replica-promotion-drill",
            "resourceArn": orders,
            "region": DRILL_REGION,
        },
        "orders-critical": {"kind": "rds-reboot-failover", "resourceArn": orders, "critical": True},
    }
    if "ledger-aurora" in fleet.clusters:
        for member in AURORA_MEMBERS:
            rds.create_db_instance(
                DBInstanceIdentifier=member,
                DBClusterIdentifier="ledger-aurora",
                Engine="aurora-postgresql",
                DBInstanceClass="db.r6g.large",
            )
        opted_in.append(fleet.clusters["ledger-aurora"])
        experiments["ledger-failover"] = {
            "kind": "aurora-cluster-failover",
            "resourceArn": fleet.clusters["ledger-aurora"],
        }
    for arn in opted_in:
        rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": OPT_IN_TAG, "Value": OPT_IN_VALUE}])
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=STOP_ALARM,
        MetricName="Errors",
        Namespace="Orders",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    fleet.config["experiments"] = experiments
    cloud.put_config(fleet.config)
    return experiments
