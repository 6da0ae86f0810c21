"""The state table (created from template.yaml by local mode): conditional, append-only status history."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.errors import IllegalStatusTransition, OperationNotFound
from lifeboat.local.runtime import LocalCloud
from lifeboat.state.store import StateStore

ARN = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
P, R, S, F = (
    OperationStatus.PENDING,
    OperationStatus.RUNNING,
    OperationStatus.SUCCEEDED,
    OperationStatus.FAILED,
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One emulated account for the module; each test uses its own operation ids."""
    with LocalCloud(log_file=tmp_path_factory.mktemp("state") / "local.log") as local:
        yield local


@pytest.fixture
def store(cloud: LocalCloud) -> StateStore:
    return cloud.store()


OpenOperation = Callable[..., tuple[Operation, bool]]


@pytest.fixture
def open_backup(store: StateStore) -> OpenOperation:
    """Open a backup operation with a fresh id (and a resource ARN of its own unless given)."""

    def _open(
        operation_id: str | None = None, resource_arn: str | None = None, **fields: Any
    ) -> tuple[Operation, bool]:
        suffix = uuid.uuid4().hex[:8]
        return store.open(
            operation_id=operation_id or f"backup:lb-test-{suffix}",
            type=OperationType.BACKUP,
            resource_arn=resource_arn or f"{ARN}-{suffix}",
            region="us-east-1",
            retain_days=fields.pop("retain_days", 60),
            **fields,
        )

    return _open


def _raw_item(cloud: LocalCloud, operation_id: str) -> dict[str, Any]:
    found = cloud.client("dynamodb").get_item(
        TableName=cloud.table_name, Key={"operationId": {"S": operation_id}}, ConsistentRead=True
    )
    return dict(found["Item"])


def test_opening_creates_a_pending_operation_once(store: StateStore, open_backup: OpenOperation) -> None:
    # GIVEN a backup operation opened by the preflight of a first run
    first, created = open_backup(run_id="daily-20261122T0300Z", detail="preflight")
    # WHEN a second run opens the same operation id (a duplicate delivery)
    again, created_again = open_backup(first.operation_id, first.resource_arn, run_id="daily-other")
    # THEN the first stays: the second open reports it, created=False, and nothing was overwritten
    assert (created, created_again) == (True, False)
    assert again.run_id == "daily-20261122T0300Z"
    stored = store.get(first.operation_id)
    assert stored is not None
    assert stored.status is P
    assert [(c.status, c.detail) for c in stored.history] == [(P, "preflight")]


def test_a_backup_moves_pending_running_succeeded_with_its_history_in_order(
    store: StateStore, open_backup: OpenOperation
) -> None:
    # GIVEN an open backup operation
    operation, _ = open_backup()
    # WHEN the snapshot starts and the backup completes
    store.transition(operation.operation_id, R, detail="snapshot started")
    done = store.transition(operation.operation_id, S, detail="backup complete")
    # THEN the table says SUCCEEDED with the three statuses in order, each with its detail
    assert done.status is S
    assert [(c.status, c.detail) for c in done.history] == [
        (P, None),
        (R, "snapshot started"),
        (S, "backup complete"),
    ]
    assert [c.at for c in done.history] == sorted(c.at for c in done.history)
    assert done.updated_at >= done.created_at
    assert store.get(operation.operation_id) == done


def test_a_backwards_move_is_refused_and_changes_nothing(
    cloud: LocalCloud, store: StateStore, open_backup: OpenOperation
) -> None:
    # GIVEN a SUCCEEDED backup
    operation, _ = open_backup()
    store.transition(operation.operation_id, R)
    store.transition(operation.operation_id, S)
    before = _raw_item(cloud, operation.operation_id)
    # WHEN a late writer tries to move it back to RUNNING, or to FAILED
    with pytest.raises(IllegalStatusTransition, match="from SUCCEEDED to RUNNING"):
        store.transition(operation.operation_id, R, detail="late retry")
    with pytest.raises(IllegalStatusTransition, match="from SUCCEEDED to FAILED"):
        store.transition(operation.operation_id, F, error="Late", cause="late")
    # THEN the item is exactly as it was: status, history, error, timestamps
    assert _raw_item(cloud, operation.operation_id) == before


def test_repeating_the_current_status_is_a_no_op(store: StateStore, open_backup: OpenOperation) -> None:
    # GIVEN a RUNNING backup
    operation, _ = open_backup()
    running = store.transition(operation.operation_id, R, detail="snapshot started")
    # WHEN a retried snapshot step records RUNNING again
    again = store.transition(operation.operation_id, R, detail="snapshot already existed")
    # THEN nothing is appended: one RUNNING entry, same update time
    assert again.status is R
    assert again.history == running.history
    assert again.updated_at == running.updated_at


def test_a_failure_records_error_and_cause(store: StateStore, open_backup: OpenOperation) -> None:
    """GIVEN a RUNNING backup WHEN it fails THEN the table holds FAILED with the error name and cause."""
    operation, _ = open_backup()
    store.transition(operation.operation_id, R)
    failed = store.transition(
        operation.operation_id, F, error="ValidationFailed", cause="size_gib (expected 100, got 99)"
    )
    assert (failed.status, failed.error, failed.cause) == (
        F,
        "ValidationFailed",
        "size_gib (expected 100, got 99)",
    )
    assert failed.history[-1].status is F


def test_a_pending_operation_may_fail_before_it_runs(store: StateStore, open_backup: OpenOperation) -> None:
    """GIVEN a PENDING backup WHEN the preflight fails THEN it goes straight to FAILED."""
    operation, _ = open_backup()
    failed = store.transition(operation.operation_id, F, error="KmsKeyNotUsable")
    assert [c.status for c in failed.history] == [P, F]


def test_moving_an_operation_that_does_not_exist_is_operation_not_found(store: StateStore) -> None:
    """GIVEN no such operation WHEN moved THEN OperationNotFound names it."""
    with pytest.raises(OperationNotFound, match="backup:lb-never-opened"):
        store.transition("backup:lb-never-opened", R)


def test_details_are_added_without_moving_the_status(store: StateStore, open_backup: OpenOperation) -> None:
    """GIVEN a RUNNING backup WHEN validation evidence is recorded THEN it is stored and the status stays
    RUNNING."""
    operation, _ = open_backup()
    store.transition(operation.operation_id, R)
    evidence = {"validation_us-east-1": {"valid": True, "checks": [{"name": "size_gib", "passed": True}]}}
    updated = store.record_details(operation.operation_id, evidence)
    assert updated.status is R
    assert updated.details == evidence
    assert len(updated.history) == 2


def test_operations_are_found_by_resource_newest_first(store: StateStore, open_backup: OpenOperation) -> None:
    # GIVEN two backups of one resource, opened one after the other
    arn = f"{ARN}-{uuid.uuid4().hex[:8]}"
    older, _ = open_backup(resource_arn=arn)
    time.sleep(0.01)
    newer, _ = open_backup(resource_arn=arn)
    # WHEN the operator asks for the resource's operations (GSI byResource)
    found = store.by_resource(arn)
    # THEN both come back, newest first
    assert [o.operation_id for o in found] == [newer.operation_id, older.operation_id]


def test_operations_are_found_by_type_and_status(store: StateStore, open_backup: OpenOperation) -> None:
    # GIVEN a backup that failed
    operation, _ = open_backup()
    store.transition(operation.operation_id, F, error="ResourceNotFound")
    # WHEN the operator asks for every FAILED backup (GSI byTypeStatus)
    failed = {o.operation_id for o in store.by_type_status(OperationType.BACKUP, F, limit=1000)}
    pending = {o.operation_id for o in store.by_type_status(OperationType.BACKUP, P, limit=1000)}
    # THEN it is listed under FAILED and no longer under PENDING
    assert operation.operation_id in failed
    assert operation.operation_id not in pending


def test_records_expire_after_their_retention(cloud: LocalCloud, open_backup: OpenOperation) -> None:
    # GIVEN an operation kept 60 days
    started = int(time.time())
    operation, _ = open_backup(retain_days=60)
    # THEN its expiresAt is 60 days ahead, and expiresAt is the table's TTL attribute
    assert started + 60 * 86_400 <= operation.expires_at <= int(time.time()) + 60 * 86_400
    ttl = cloud.client("dynamodb").describe_time_to_live(TableName=cloud.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"
    assert ttl["TimeToLiveStatus"] == "ENABLED"


@pytest.fixture
def atomic_dynamodb_writes() -> Iterator[None]:
    """DynamoDB applies each conditional write atomically; moto does not lock, so give it that guarantee.

    Without this the race below would test moto's thread safety, not Lifeboat's conditional writes.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    originals = {name: getattr(DynamoDBBackend, name) for name in ("put_item", "update_item")}

    def atomic(original: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    with (
        mock.patch.object(DynamoDBBackend, "put_item", atomic(originals["put_item"])),
        mock.patch.object(DynamoDBBackend, "update_item", atomic(originals["update_item"])),
    ):
        yield


def _race(store: StateStore, operation_id: str, statuses: tuple[OperationStatus, ...]) -> dict[str, bool]:
    """Write each status from its own thread, all released at once; status -> whether it won."""
    barrier = threading.Barrier(len(statuses))
    won: dict[str, bool] = {}

    def write(status: OperationStatus) -> None:
        barrier.wait()
        try:
            store.transition(operation_id, status, error="Boom" if status is F else None)
            won[status.value] = True
        except IllegalStatusTransition:
            won[status.value] = False

    threads = [threading.Thread(target=write, args=(status,)) for status in statuses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return won


@pytest.mark.usefixtures("atomic_dynamodb_writes")
@pytest.mark.parametrize("attempt", range(5))  # several rounds: the winner varies, the invariant must not
def test_two_racing_terminal_writes_one_wins_and_history_has_one_ending(
    store: StateStore, open_backup: OpenOperation, attempt: int
) -> None:
    # GIVEN a RUNNING backup
    operation, _ = open_backup()
    store.transition(operation.operation_id, R)
    # WHEN one writer records SUCCEEDED and another FAILED at the same moment
    won = _race(store, operation.operation_id, (S, F))
    # THEN exactly one wins; the other was told its move is illegal
    assert sorted(won.values()) == [False, True], won
    winner = OperationStatus(next(status for status, ok in won.items() if ok))
    # AND the table holds the winner, with exactly one terminal entry in the history
    stored = store.get(operation.operation_id)
    assert stored is not None
    assert stored.status is winner
    assert [c.status for c in stored.history if c.status.terminal] == [winner]
