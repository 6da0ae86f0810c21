"""notify on the state table stream: one bad record fails alone, the others are delivered."""

from __future__ import annotations

from lifeboat.local.runtime import LocalCloud

from .health_support import cloud, event

__all__ = ["cloud"]


def test_a_bad_record_is_reported_as_a_partial_batch_failure_and_the_others_are_published(
    cloud: LocalCloud,
) -> None:
    # GIVEN the sample stream batch (a routine success, an RPO breach, a failed deletion) whose
    # first record's image holds an attribute of no DynamoDB type
    batch = event("state_stream_batch.json")
    bad = batch["Records"][0]
    bad["dynamodb"]["NewImage"]["status"] = {"XS": "SUCCEEDED"}
    # WHEN Lambda hands the batch to notify
    response = cloud.invoke_function("NotifyFunction", batch)
    # THEN only the bad record is reported failed (Lambda retries from it) ...
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}
    # ... and the two records that deserve a message were published to the failure topic
    subjects = sorted(m["Subject"] for m in cloud.notifications())
    assert subjects == [
        "Lifeboat: RPO BREACH orders-db (us-east-1, prod)",
        "Lifeboat: delete FAILED for orders-db (eu-west-1)",
    ]


def test_a_batch_of_routine_changes_publishes_nothing(cloud: LocalCloud) -> None:
    # GIVEN a batch holding only the routine backup success
    batch = event("state_stream_batch.json")
    batch["Records"] = batch["Records"][:1]
    # WHEN delivered
    response = cloud.invoke_function("NotifyFunction", batch)
    # THEN no failure and no message
    assert response == {"batchItemFailures": []}
    assert cloud.notifications() == []
