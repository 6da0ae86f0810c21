"""Each handler run on the sample events in events/, as `sam local invoke` would, on an emulated account.

The events describe the prod daily backup of orders-db at 2026-11-22T03:00Z; only the example KMS
key ARNs are swapped for the keys of the emulated account.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from lifeboat.demo.fleet import DEMO_INSTANCES, DemoFleet, seed_demo_fleet
from lifeboat.errors import InvalidInput, KmsKeyNotUsable, PolicyViolation, SnapshotQuotaExceeded
from lifeboat.local.runtime import LocalCloud
from lifeboat.plugins.rds.instance import RdsInstancePlugin

EventLoader = Callable[..., dict[str, Any]]
ORDERS = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
POINT = "lb-orders-db-daily-202611220300-6d483cac"
OPERATION = f"backup:{POINT}"


@dataclass
class Account:
    cloud: LocalCloud
    fleet: DemoFleet
    load_event: EventLoader

    def event(self, name: str) -> dict[str, Any]:
        """The sample event, with its example key ARNs replaced by this account's keys."""
        example = self.load_event("snapshot.json")["step"]["preflight"]
        resolved = self.load_event("validate_copy.json")["target"]  # a DR key as CopyToRegion resolves it
        replacements = {example["source"]["kmsKeyId"]: self.fleet.source_key}
        replacements |= {
            t["kmsKeyId"]: self.fleet.keys[t["region"]]
            for t in (*example["targets"], resolved)
            if t["kmsKeyId"].startswith("arn:")
        }
        return self.load_event(name, replacements)

    def invoke(self, function: str, event_name: str) -> dict[str, Any]:
        return self.cloud.invoke_function(function, self.event(event_name))

    def snapshots(self, region: str) -> list[str]:
        rds = self.cloud.client("rds", region)
        return [
            s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        ]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """orders-db (prod, encrypted), sandbox-db (dev, off) and legacy-db (untagged), demo config."""
    wanted = {"orders-db", "sandbox-db", "legacy-db"}
    with LocalCloud(log_file=tmp_path_factory.mktemp("handlers") / "local.log") as cloud:
        instances = tuple(i for i in DEMO_INSTANCES if i.name in wanted)
        yield (
            cloud,
            seed_demo_fleet(cloud, instances=instances, clusters=(), volumes=(), tables=(), caches=()),
        )


def _reset(cloud: LocalCloud, fleet: DemoFleet) -> None:
    """Back to the freshly seeded account: no operation, no manual snapshot, keys enabled, demo config."""
    ddb = cloud.client("dynamodb")
    for item in ddb.scan(TableName=cloud.table_name, ProjectionExpression="operationId")["Items"]:
        ddb.delete_item(TableName=cloud.table_name, Key={"operationId": item["operationId"]})
    for region in ("us-east-1", *fleet.keys):
        rds = cloud.client("rds", region)
        for snapshot in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
            rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])
    for region, key in fleet.keys.items():
        cloud.client("kms", region).enable_key(KeyId=key.rsplit("/", 1)[-1])
    cloud.put_config(fleet.config)


@pytest.fixture
def account(seeded: tuple[LocalCloud, DemoFleet], load_event: EventLoader) -> Account:
    """The seeded account, reset before each test (one LocalCloud per module keeps the suite fast)."""
    cloud, fleet = seeded
    _reset(cloud, fleet)
    return Account(cloud, fleet, load_event)


def _file(account: Account, location: dict[str, str]) -> Any:
    s3 = account.cloud.client("s3")
    return json.loads(s3.get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read())


def test_plan_expands_the_daily_run_into_protected_resources(account: Account) -> None:
    # GIVEN the plan input of the daily schedule
    # WHEN the plan handler runs
    summary = account.invoke("PlanFunction", "plan.json")
    # THEN it returns counts and writes the plan to the stack's bucket, where the Map reads it
    assert (summary["resourceCount"], summary["skippedCount"]) == (1, 1)
    plan = _file(account, summary["plan"])
    assert _file(account, summary["items"]) == plan["resources"]
    # AND orders-db is planned under prod, the dev instance is skipped with the reason, and the
    # untagged one is not protected at all; the run id is the scheduled minute's
    assert plan["runId"] == "daily-20261122T0300Z"
    assert plan["scheduledAt"] == "2026-11-22T03:00:00Z"
    assert plan["resources"] == [{"arn": ORDERS, "policy": "prod"}]
    assert plan["skipped"] == [
        {
            "arn": account.fleet.instances["sandbox-db"],
            "reason": "backups are disabled by policy 'dev' (dev)",
        }
    ]
    # AND planning changed nothing
    assert account.snapshots("us-east-1") == []


def test_a_manual_run_of_a_tier_no_policy_keeps_is_refused_before_anything_runs(account: Account) -> None:
    # GIVEN an operator's run of the yearly tier, which no policy of the demo keeps
    event = account.event("plan.json")
    event["request"] |= {"tier": "yearly", "trigger": "manual"}
    # WHEN it is planned THEN it is refused, naming the tier and the tiers kept (was: a plan of
    # nothing that ended SUCCEEDED, "every protected resource SUCCEEDED" and exit 1)
    with pytest.raises(InvalidInput, match=r"tier: no enabled policy keeps yearly .*daily, weekly, monthly"):
        account.cloud.invoke_function("PlanFunction", event)
    # AND a schedule of that tier still plans nothing, quietly
    event["request"]["trigger"] = "schedule"
    assert account.cloud.invoke_function("PlanFunction", event)["resourceCount"] == 0
    assert account.snapshots("us-east-1") == []


def _comparable(preflight: dict[str, Any]) -> dict[str, Any]:
    """A preflight without what depends on the account's state (quota headroom) and with DR
    targets reduced to region and key (optional target fields may be added by the preflight)."""
    kept = {k: v for k, v in preflight.items() if k not in ("snapshotQuotaHeadroom", "targets")}
    return kept | {"targets": [(t["region"], t["kmsKeyId"]) for t in preflight["targets"]]}


def test_the_preflight_produces_what_the_sample_step_events_carry(account: Account) -> None:
    # GIVEN the preflight input for orders-db
    # WHEN the health check (preflight) handler runs
    preflight = account.invoke("HealthCheckFunction", "health_check.json")
    # THEN its output is the preflight of events/snapshot.json: same ids, same source facts,
    # DR targets resolved to this account's key ARNs, and some snapshot quota left
    assert _comparable(preflight) == _comparable(account.event("snapshot.json")["step"]["preflight"])
    assert preflight["snapshotQuotaHeadroom"] > 0
    # AND the backup operation is open and PENDING, and nothing was snapshotted yet
    operation = account.cloud.store().get(OPERATION)
    assert operation is not None
    assert operation.status.value == "PENDING"
    assert account.snapshots("us-east-1") == []


def test_the_sample_events_drive_a_whole_backup_step_by_step(account: Account) -> None:
    # GIVEN orders-db and the sample input of every step of its backup
    # WHEN each handler runs on its event, in the order the state machine calls them
    account.invoke("HealthCheckFunction", "health_check.json")
    snapshot = account.invoke("SnapshotFunction", "snapshot.json")
    validation = account.invoke("ValidateFunction", "validate_source.json")
    copy = account.invoke("ReplicateFunction", "replicate.json")
    copy_validation = account.invoke("ValidateFunction", "validate_copy.json")
    account.cloud.invoke_function(
        "ReplicateFunction", _in_region(account.event("replicate.json"), "eu-west-1")
    )
    eu = _in_region(account.event("validate_copy.json"), "eu-west-1", account.fleet.keys["eu-west-1"])
    account.cloud.invoke_function("ValidateFunction", eu)
    outcome = account.invoke("UpdateStateFunction", "update_state_succeeded.json")
    # THEN the snapshot exists in us-east-1 and the copy in us-west-2, under the us-west-2 DR key
    assert snapshot == {"recoveryPointId": POINT, "region": "us-east-1", "created": True}
    assert account.snapshots("us-east-1") == [POINT]
    # (the copy step resolved the us-west-2 alias of the policy to that region's key ARN)
    assert (copy["region"], copy["kmsKeyId"]) == ("us-west-2", account.fleet.keys["us-west-2"])
    west = account.cloud.client("rds", "us-west-2").describe_db_snapshots(DBSnapshotIdentifier=POINT)
    assert west["DBSnapshots"][0]["KmsKeyId"] == account.fleet.keys["us-west-2"]
    # AND both passed validation, the copy under the expected key
    assert validation["valid"] is True
    assert (copy_validation["valid"], copy_validation["kmsKeyId"]) == (True, account.fleet.keys["us-west-2"])
    # AND the state table says the backup SUCCEEDED after PENDING and RUNNING, and the copy SUCCEEDED
    assert outcome == {"operationId": OPERATION, "status": "SUCCEEDED", "notification": None, "region": None}
    store = account.cloud.store()
    backup = store.get(OPERATION)
    assert backup is not None
    assert [c.status.value for c in backup.history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert backup.details["validation_us-east-1"]["valid"] is True
    west_copy = store.get(f"copy:{POINT}:us-west-2")
    assert west_copy is not None
    assert west_copy.status.value == "SUCCEEDED"
    assert [c.status.value for c in west_copy.history] == ["PENDING", "RUNNING", "SUCCEEDED"]


def _in_region(event: dict[str, Any], region: str, key: str | None = None) -> dict[str, Any]:
    """A DR step's sample event for another DR region of the policy (the copy step's, whose step
    is wrapped with its task token, or a validation's)."""
    if "step" in event:
        return event | {"step": _in_region(event["step"], region, key)}
    [target] = [t for t in event["preflight"]["targets"] if t["region"] == region]
    return event | {"target": target | ({"kmsKeyId": key} if key else {})}


def test_a_rerun_of_a_finished_backup_is_recognised_by_the_preflight(account: Account) -> None:
    # GIVEN the backup of orders-db went through snapshot and succeeded
    for function, event in (
        ("HealthCheckFunction", "health_check.json"),
        ("SnapshotFunction", "snapshot.json"),
        ("UpdateStateFunction", "update_state_succeeded.json"),
    ):
        account.invoke(function, event)
    # WHEN the same preflight input arrives again (a duplicate schedule delivery)
    again = account.invoke("HealthCheckFunction", "health_check.json")
    # THEN the preflight reports the recorded outcome (the state machine then stops), and the
    # recorded history is untouched (PARTIAL: this sequence made no DR copy)
    assert again["alreadyRecorded"] == "PARTIAL"
    operation = account.cloud.store().get(OPERATION)
    assert operation is not None
    assert [c.status.value for c in operation.history] == ["PENDING", "RUNNING", "PARTIAL"]
    assert account.snapshots("us-east-1") == [POINT]


def test_a_retried_snapshot_step_finds_its_snapshot(account: Account) -> None:
    # GIVEN the snapshot step ran once (its Lambda then timed out, say, and Step Functions retries it)
    account.invoke("HealthCheckFunction", "health_check.json")
    account.invoke("SnapshotFunction", "snapshot.json")
    # WHEN it runs again with the same input
    again = account.invoke("SnapshotFunction", "snapshot.json")
    # THEN it reports the existing snapshot; still one snapshot, one RUNNING entry
    assert again["created"] is False
    assert account.snapshots("us-east-1") == [POINT]
    operation = account.cloud.store().get(OPERATION)
    assert operation is not None
    assert [c.status.value for c in operation.history] == ["PENDING", "RUNNING"]


def test_recording_a_failure_keeps_the_cause_and_words_a_notification(account: Account) -> None:
    # GIVEN a backup that started (preflight and snapshot ran)
    account.invoke("HealthCheckFunction", "health_check.json")
    account.invoke("SnapshotFunction", "snapshot.json")
    # WHEN the state machine's Catch records the validation failure of events/update_state_failed.json
    result = account.invoke("UpdateStateFunction", "update_state_failed.json")
    # THEN the state table says FAILED with the error name and the human part of the Lambda cause
    operation = account.cloud.store().get(OPERATION)
    assert operation is not None
    assert operation.status.value == "FAILED"
    assert operation.error == "ValidationFailed"
    assert operation.cause == f"{POINT} in us-east-1 failed validation: size_gib (expected 100, got 99)"
    assert [c.status.value for c in operation.history] == ["PENDING", "RUNNING", "FAILED"]
    # AND the notification names the resource, the error, the cause and the state table record
    notification = result["notification"]
    assert notification["subject"] == "Lifeboat: daily backup FAILED for orders-db (us-east-1)"
    for fact in (ORDERS, "Error: ValidationFailed", "size_gib (expected 100, got 99)", OPERATION):
        assert fact in notification["message"]


def test_a_failure_before_the_backup_opened_is_still_recorded(account: Account) -> None:
    # GIVEN nothing recorded for orders-db (the preflight itself failed, e.g. a throttled table)
    # WHEN the failure is recorded
    account.invoke("UpdateStateFunction", "update_state_failed.json")
    # THEN a FAILED operation exists with the error, so the failure is visible in the table
    operation = account.cloud.store().get(OPERATION)
    assert operation is not None
    assert (operation.status.value, operation.error) == ("FAILED", "ValidationFailed")
    assert operation.resource_arn == ORDERS


def test_a_preflight_with_no_snapshot_quota_left_refuses_before_snapshotting(account: Account) -> None:
    # GIVEN an account whose manual snapshot quota is used up by an operator's snapshot
    rds = account.cloud.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="before-upgrade", DBInstanceIdentifier="orders-db")
    quota_used_up = mock.patch.dict(os.environ, {"MOTO_RDS_SNAPSHOT_LIMIT": "1"})
    # WHEN the preflight runs THEN it refuses, saying which quota and how to fix it
    refused = pytest.raises(SnapshotQuotaExceeded, match=r"quota in us-east-1 is used up \(1/1\)")
    with quota_used_up, refused:
        account.invoke("HealthCheckFunction", "health_check.json")
    # AND no Lifeboat snapshot was attempted
    assert account.snapshots("us-east-1") == ["before-upgrade"]


def test_the_plan_reads_the_quota_once_and_preflights_where_the_run_fits_do_not_read_it(
    account: Account,
) -> None:
    # GIVEN the daily plan of orders-db (one snapshot in us-east-1; no copy comes into us-east-1)
    summary = account.invoke("PlanFunction", "plan.json")
    # THEN the plan read us-east-1's DB snapshot quota once: the run's point fits with the reserve
    (room,) = summary["quotaRoom"]
    assert (room["resourceType"], room["region"], room["planned"], room["enough"]) == (
        "rds:db",
        "us-east-1",
        1,
        True,
    )
    # WHEN the preflight runs with the plan's reading THEN it does not read the quota again (was:
    # one DescribeAccountAttributes per resource and run) and reports the plan's headroom
    task = account.event("health_check.json") | {"quotaRoom": summary["quotaRoom"]}
    unread = mock.patch.object(RdsInstancePlugin, "snapshot_quota", side_effect=AssertionError("read again"))
    with unread:
        preflight = account.cloud.invoke_function("HealthCheckFunction", task)
    assert preflight["snapshotQuotaHeadroom"] == room["headroom"]


def test_where_the_run_does_not_fit_the_quota_each_preflight_reads_it_and_refuses(account: Account) -> None:
    # GIVEN an account whose manual snapshot quota an operator's snapshot has used up
    rds = account.cloud.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="before-upgrade", DBInstanceIdentifier="orders-db")
    with mock.patch.dict(os.environ, {"MOTO_RDS_SNAPSHOT_LIMIT": "1"}):
        # WHEN the daily run is planned THEN the plan says the run's points do not fit
        summary = account.invoke("PlanFunction", "plan.json")
        assert [(r["headroom"], r["enough"]) for r in summary["quotaRoom"]] == [(0, False)]
        # AND the preflight, given that reading, reads the quota itself and refuses, saying why
        task = account.event("health_check.json") | {"quotaRoom": summary["quotaRoom"]}
        with pytest.raises(SnapshotQuotaExceeded, match=r"quota in us-east-1 is used up \(1/1\)"):
            account.cloud.invoke_function("HealthCheckFunction", task)
    assert account.snapshots("us-east-1") == ["before-upgrade"]


def test_a_disabled_dr_key_fails_that_regions_copy_alone_never_the_snapshot(account: Account) -> None:
    # GIVEN the eu-west-1 DR key was disabled
    key = account.fleet.keys["eu-west-1"]
    account.cloud.client("kms", "eu-west-1").disable_key(KeyId=key.rsplit("/", 1)[-1])
    # WHEN the preflight and the snapshot run THEN neither looks at a DR region: the point is taken
    account.invoke("HealthCheckFunction", "health_check.json")
    account.invoke("SnapshotFunction", "snapshot.json")
    assert account.snapshots("us-east-1") == [POINT]
    # AND the eu-west-1 copy step names the key and its state, on that region's own copy
    # operation, opened before the key was looked at, and nothing was copied there (was: the
    # preflight refused, and no recovery point was made anywhere)
    with pytest.raises(KmsKeyNotUsable, match=f"KMS key {key} in eu-west-1 is Disabled"):
        account.cloud.invoke_function(
            "ReplicateFunction", _in_region(account.event("replicate.json"), "eu-west-1")
        )
    copy = account.cloud.store().get(f"copy:{POINT}:eu-west-1")
    assert copy is not None and copy.status.value == "PENDING"
    assert account.snapshots("eu-west-1") == []


def test_a_copy_that_failed_is_recorded_on_that_regions_copy_alone(account: Account) -> None:
    # GIVEN orders-db's snapshot was taken, and its eu-west-1 copy step ran out of retries
    # (events/update_state_copy_failed.json: the region's endpoint could not be reached)
    account.invoke("HealthCheckFunction", "health_check.json")
    account.invoke("SnapshotFunction", "snapshot.json")
    # WHEN RecordCopyFailure records it
    result = account.invoke("UpdateStateFunction", "update_state_copy_failed.json")
    # THEN the eu-west-1 copy is FAILED with the error and the cause, the backup is untouched
    # (RUNNING), and no notification is worded yet: the backup's own outcome will name it
    assert (result["region"], result["status"], result["notification"]) == ("eu-west-1", "FAILED", None)
    store = account.cloud.store()
    copy = store.get(f"copy:{POINT}:eu-west-1")
    assert copy is not None and (copy.status.value, copy.error) == ("FAILED", "TransientAwsError")
    assert copy.cause is not None and "Could not connect to the endpoint URL" in copy.cause
    backup = store.get(OPERATION)
    assert backup is not None and backup.status.value == "RUNNING"


def test_a_preflight_refuses_a_dr_region_equal_to_the_source(account: Account) -> None:
    # GIVEN the prod policy was edited to copy to us-east-1, where orders-db lives
    config = account.fleet.config
    prod = config["policies"]["prod"]
    account.cloud.put_config(
        config
        | {
            "policies": config["policies"]
            | {
                "prod": prod
                | {
                    "drRegions": [
                        {"region": "us-east-1", "kmsKeyId": "alias/lifeboat-dr"},
                        {"region": "eu-west-1", "kmsKeyId": "alias/lifeboat-dr"},
                    ]
                }
            }
        }
    )
    # WHEN the preflight runs THEN the rule names the resource and the region; nothing is snapshotted
    with pytest.raises(PolicyViolation, match=f"{ORDERS}: DR region us-east-1 is the source region"):
        account.invoke("HealthCheckFunction", "health_check.json")
    assert account.snapshots("us-east-1") == []
