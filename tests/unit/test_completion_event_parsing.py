"""Which recovery point a completion event names (domain/completion.py), from the sample events."""

from __future__ import annotations

from typing import Any

import pytest
from lifeboat.domain.completion import CompletionEvent, PointEvent, native_id
from lifeboat.handler import parse

EventLoader = Any


def test_an_rds_copy_finished_event_names_the_copy_in_its_region(load_event: EventLoader) -> None:
    # GIVEN the event RDS sends in us-west-2 when a snapshot copy finished (forwarded here)
    event = parse(CompletionEvent, load_event("completion_event_rds.json"))
    # THEN it names that region's copy of the point, by its snapshot identifier
    assert event.finished_point() == PointEvent("us-west-2", "lb-orders-db-daily-202611220300-6d483cac")


def test_an_ebs_event_names_the_snapshot_by_its_id_in_the_region_of_its_arn(load_event: EventLoader) -> None:
    # GIVEN the EBS snapshot notification of a finished snapshot
    event = parse(CompletionEvent, load_event("completion_event_ebs.json"))
    # THEN it names the snap- id in the region its ARN carries (where an account would be)
    assert event.finished_point() == PointEvent("us-east-1", "snap-0a1b2c3d4e5f67890")


def test_a_failed_ebs_copy_still_ends_the_wait(load_event: EventLoader) -> None:
    # GIVEN an EBS copy that failed in eu-west-1
    raw = load_event("completion_event_ebs.json")
    raw["detail"] |= {
        "event": "copySnapshot",
        "result": "failed",
        "snapshot_id": "arn:aws:ec2::eu-west-1:snapshot/snap-0ffffffffffffffff",
    }
    # THEN the wait of that copy ends (its validation then records why it failed)
    assert parse(CompletionEvent, raw).finished_point() == PointEvent("eu-west-1", "snap-0ffffffffffffffff")


@pytest.mark.parametrize(
    ("event_id", "identifier"),
    [("RDS-EVENT-0090", "lb-orders-db-x"), ("RDS-EVENT-0059", "lb-orders-db-x"), ("RDS-EVENT-0042", "")],
)
def test_events_that_end_nothing_are_ignored(event_id: str, identifier: str, load_event: EventLoader) -> None:
    # GIVEN a snapshot being created (0090), a copy started (0059), or an event with no source
    raw = load_event("completion_event_rds.json")
    raw["detail"] |= {"EventID": event_id, "SourceIdentifier": identifier}
    # THEN no wait is ended by it
    assert parse(CompletionEvent, raw).finished_point() is None


def test_an_event_the_rules_never_send_is_refused_as_bad_input(load_event: EventLoader) -> None:
    # GIVEN an event of another service
    raw = load_event("completion_event_rds.json") | {"source": "aws.s3"}
    # THEN parsing refuses it with the field that is wrong
    with pytest.raises(Exception, match="source"):
        parse(CompletionEvent, raw)


@pytest.mark.parametrize(
    ("arn", "identifier"),
    [
        ("arn:aws:rds:us-west-2:123456789012:snapshot:lb-a-daily", "lb-a-daily"),
        ("arn:aws:rds:us-east-1:123456789012:cluster-snapshot:lb-b", "lb-b"),
        ("arn:aws:ec2:us-east-1::snapshot/snap-0123", "snap-0123"),
    ],
)
def test_native_id_is_the_identifier_events_use(arn: str, identifier: str) -> None:
    assert native_id(arn) == identifier
