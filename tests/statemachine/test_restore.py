"""The real restore workflow (statemachines/restore.asl.json) on an emulated account whose RDS
instances hold real PostgreSQL data: latest, a chosen point, point in time, a DR region; and the
requests it must refuse without touching anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from .restore_support import (
    DAY1,
    EU,
    SOURCE,
    WEST,
    World,
    backed_up_world,
    dump_changed,
    error_message,
    tags,
    unloadable,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """GIVEN orders-db and payments-db (prod, encrypted, data-checked), reports-db (staging) and
    legacy-db (unprotected), backed up on two days by the real backup workflow."""
    with backed_up_world(
        tmp_path_factory.mktemp("restore"), "orders-db", "payments-db", "reports-db", "legacy-db"
    ) as w:
        yield w


def restore_of(world: World, target: str, region: str = SOURCE) -> str:
    [operation] = [
        o for o in world.operations("RESTORE") if o["details"]["plan"]["spec"]["targetId"] == target
    ]
    assert operation["region"] == region
    return str(operation["operationId"])


def test_latest_restore_creates_a_private_protected_new_instance_with_the_same_data(world: World) -> None:
    # WHEN an operator restores orders-db with no recovery point named
    described = world.start(
        "RestoreStateMachine", {"resourceArn": world.arn("orders-db"), "targetIdentifier": "orders-db-latest"}
    )
    # THEN the workflow succeeded and a new instance exists next to the source
    assert described["status"] == "SUCCEEDED"
    restored = world.instances(SOURCE)["orders-db-latest"]
    assert restored["DBInstanceStatus"] == "available"
    # AND it is private, protected from deletion (prod), and tagged with where it came from
    assert restored.get("PubliclyAccessible") is not True
    assert restored["DeletionProtection"] is True
    assert tags(restored)["lifeboat:restored-from"] == world.point("orders-db")  # the newest point
    assert tags(restored)["lifeboat:policy"] == "prod"  # the resource's tags come along
    # AND it holds the source's data, verified over SQL against the backup-time profile
    assert world.plane.query(SOURCE, "orders-db-latest", "SELECT count(*) FROM orders") == "4000"
    operation = world.operation(described["output"]["operationId"])
    assert operation.status.value == "SUCCEEDED"
    assert operation.details["failedChecks"] == []
    names = {c["name"] for c in operation.details["checks"]}
    assert {"schema_fingerprint", "row_count:public.orders", "checksum:public.orders", "canary"} <= names
    # AND the measured RTO is recorded with its breakdown, and people are told
    timings = operation.details["timings"]
    assert timings["rtoSeconds"] >= timings["restoreSeconds"] + timings["checkSeconds"] > 0
    [message] = [m for m in world.cloud.notifications() if "into orders-db-latest" in m["Message"]]
    assert message["Subject"] == "Lifeboat: restore SUCCEEDED for orders-db (us-east-1)"
    assert "Measured RTO" in message["Message"]


def test_a_chosen_recovery_point_is_the_one_restored(world: World) -> None:
    # WHEN the first day's recovery point is asked for by id
    point = world.point("payments-db", DAY1)
    described = world.start(
        "RestoreStateMachine",
        {
            "resourceArn": world.arn("payments-db"),
            "recoveryPointId": point,
            "targetIdentifier": "payments-day1",
        },
    )
    # THEN exactly that point was restored, and the plan says why it was chosen
    assert described["status"] == "SUCCEEDED"
    assert tags(world.instances(SOURCE)["payments-day1"])["lifeboat:restored-from"] == point
    assert (
        world.operation(restore_of(world, "payments-day1"))
        .details["plan"]["reason"]
        .startswith("requested recovery point")
    )


def test_a_restore_into_a_dr_region_uses_the_copy_under_that_regions_key(world: World) -> None:
    # WHEN orders-db is restored into us-west-2 (its source region is down)
    described = world.start(
        "RestoreStateMachine",
        {"resourceArn": world.arn("orders-db"), "targetRegion": WEST, "targetIdentifier": "orders-db-west"},
    )
    # THEN the new instance is in us-west-2, encrypted with us-west-2's DR key, with the data
    assert described["status"] == "SUCCEEDED"
    restored = world.instances(WEST)["orders-db-west"]
    assert (restored["StorageEncrypted"], restored["KmsKeyId"]) == (True, world.fleet.keys[WEST])
    assert world.plane.query(WEST, "orders-db-west", "SELECT count(*) FROM customers") == "500"
    assert "DR copy" in world.operation(described["output"]["operationId"]).details["plan"]["reason"]


def test_a_point_in_time_restore_inside_the_window(world: World) -> None:
    # WHEN reports-db is restored to a moment a second ago (inside its automated-backup window)
    moment = datetime.now(UTC) - timedelta(seconds=1)
    described = world.start(
        "RestoreStateMachine",
        {
            "resourceArn": world.arn("reports-db"),
            "pointInTime": moment.isoformat(),
            "targetIdentifier": "reports-pitr",
        },
    )
    # THEN a new instance exists, its plan names the point in time (moto keeps no history: the
    # local data plane restores the source's current data)
    assert described["status"] == "SUCCEEDED"
    plan = world.operation(described["output"]["operationId"]).details["plan"]
    assert (plan["mode"], plan["recoveryPointId"]) == ("point-in-time", None)
    assert "reports-pitr" in world.instances(SOURCE)


def test_a_point_in_time_outside_the_window_is_refused_before_anything_happens(world: World) -> None:
    before = set(world.instances(SOURCE))
    described = world.start(
        "RestoreStateMachine",
        {
            "resourceArn": world.arn("reports-db"),
            "pointInTime": "2026-01-01T00:00:00Z",
            "targetIdentifier": "too-old",
        },
    )
    assert (described["status"], described["error"]) == ("FAILED", "InvalidInput")
    assert "outside the point-in-time window" in error_message(described)
    assert set(world.instances(SOURCE)) == before
    assert not [o for o in world.operations("RESTORE") if "too-old" in o["operationId"]]


def test_an_existing_identifier_is_never_overwritten(world: World) -> None:
    # GIVEN legacy-db, an instance Lifeboat did not create
    legacy = world.instances(SOURCE)["legacy-db"]
    # WHEN a restore names it as its target
    described = world.start(
        "RestoreStateMachine", {"resourceArn": world.arn("orders-db"), "targetIdentifier": "legacy-db"}
    )
    # THEN the request is refused and nothing changed: same instance, same tags, same data
    assert (described["status"], described["error"]) == ("FAILED", "TargetExists")
    assert "never restores over an existing resource" in error_message(described)
    after = world.instances(SOURCE)["legacy-db"]
    assert (tags(after), after["DBInstanceStatus"]) == (tags(legacy), legacy["DBInstanceStatus"])
    assert world.plane.query(SOURCE, "legacy-db", "SELECT count(*) FROM orders") == "4000"
    assert not [o for o in world.operations("RESTORE") if ":legacy-db:" in o["operationId"]]


@pytest.mark.parametrize(
    ("request_of", "error", "message"),
    [
        pytest.param(
            lambda w: {"resourceArn": w.arn("legacy-db")},
            "RecoveryPointNotFound",
            "no recovery point of this resource is recorded",
            id="unknown-resource",
        ),
        pytest.param(
            lambda w: {"resourceArn": w.arn("reports-db"), "targetRegion": EU},
            "InvalidInput",
            "eu-west-1 is not a DR region",
            id="region-outside-the-policy",
        ),
        pytest.param(
            lambda w: {
                "resourceArn": w.arn("orders-db"),
                "recoveryPointId": "lb-orders-db-daily-209901010300-6d483cac",
            },
            "RecoveryPointNotFound",
            "no such recovery point is recorded",
            id="unknown-recovery-point",
        ),
        pytest.param(
            lambda w: {
                "resourceArn": w.arn("orders-db"),
                "recoveryPointId": w.point("orders-db"),
                "pointInTime": "2026-11-22T03:00:00Z",
            },
            "InvalidInput",
            "give recoveryPointId or pointInTime, not both",
            id="point-and-time",
        ),
        pytest.param(
            lambda w: {"resourceArn": "arn:aws:rds:us-east-1:123:db:x"},
            "InvalidInput",
            "malformed ARN",
            id="bad-arn",
        ),
    ],
)
def test_bad_requests_fail_with_a_clear_error_and_no_mutation(
    world: World, request_of: object, error: str, message: str
) -> None:
    before = {region: set(world.instances(region)) for region in (SOURCE, WEST, EU)}
    restores = len(world.operations("RESTORE"))
    described = world.start("RestoreStateMachine", request_of(world))  # type: ignore[operator]
    assert (described["status"], described["error"]) == ("FAILED", error)
    assert message in error_message(described)
    assert {region: set(world.instances(region)) for region in before} == before
    assert len(world.operations("RESTORE")) == restores


def test_a_point_that_failed_validation_or_a_region_without_a_valid_copy_is_refused(world: World) -> None:
    # GIVEN payments-db's newest eu-west-1 copy failed validation and the older one was deleted by cleanup
    store = world.cloud.store()
    store.record_details(f"copy:{world.point('payments-db')}:{EU}", {f"validation_{EU}": {"valid": False}})
    store.record_details(
        f"copy:{world.point('payments-db', DAY1)}:{EU}", {"deletedAt": "2026-11-22T07:00:00Z"}
    )
    # WHEN the failed point is asked for THEN it is refused, saying why
    asked = world.start(
        "RestoreStateMachine",
        {
            "resourceArn": world.arn("payments-db"),
            "targetRegion": EU,
            "recoveryPointId": world.point("payments-db"),
        },
    )
    assert (asked["status"], asked["error"]) == ("FAILED", "InvalidInput")
    assert "failed validation" in error_message(asked)
    # AND "latest" in that region finds nothing valid and says where valid points are
    latest = world.start("RestoreStateMachine", {"resourceArn": world.arn("payments-db"), "targetRegion": EU})
    assert (latest["status"], latest["error"]) == ("FAILED", "RecoveryPointNotFound")
    assert (
        "no valid recovery point in eu-west-1; valid points exist in us-east-1, us-west-2"
        in error_message(latest)
    )


def test_a_restore_aws_cannot_complete_is_recorded_notified_and_left_tagged(world: World) -> None:
    # GIVEN payments-db's us-west-2 copy holds data that cannot be loaded
    dump = world.plane.dump_of(WEST, world.point("payments-db"))
    with dump_changed(dump, unloadable):
        # WHEN it is restored
        described = world.start(
            "RestoreStateMachine",
            {
                "resourceArn": world.arn("payments-db"),
                "targetRegion": WEST,
                "targetIdentifier": "payments-broken",
            },
        )
    # THEN the workflow failed, the operation says why
    assert described["status"] == "FAILED"
    operation = world.operation(restore_of(world, "payments-broken", WEST))
    assert (operation.status.value, operation.error) == ("FAILED", "RestoreFailed")
    assert "incompatible-restore" in (operation.cause or "")
    # AND the half-created instance is left for a person, tagged, never silently
    broken = world.instances(WEST)["payments-broken"]
    assert tags(broken)["lifeboat:cleanup"].startswith("required")
    [message] = [m for m in world.cloud.notifications() if "into payments-broken" in m["Message"]]
    assert message["Subject"] == "Lifeboat: restore FAILED for payments-db (us-west-2)"
    assert "tagged lifeboat:cleanup" in message["Message"]
