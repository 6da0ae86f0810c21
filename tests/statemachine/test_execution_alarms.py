"""A workflow that fails is never silent: the alarm on its state machine's failed executions
notifies the failure topic (local mode sends what CloudWatch would; local/execution_alarms.py).

And one that need not fail does not: a Distributed Map's own S3 calls (ItemReader, ResultWriter)
ride out a transient S3 error, as Step Functions retries its service calls. moto's engine made
them with retries off, and one injected 503 failed a whole cleanup run (seen under load)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from lifeboat.local.faults import _error
from lifeboat.local.runtime import LocalCloud
from moto.core.botocore_stubber import BotocoreStubber

CONFIG = {"policies": {"staging": {"environment": "staging", "drRegions": [{"region": "us-west-2"}]}}}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        local.put_config(CONFIG)
        yield local


def test_a_failing_cleanup_raises_the_alarm_on_the_failure_topic(cloud: LocalCloud) -> None:
    # GIVEN a stack whose bucket is gone (the cleanup plan cannot be written)
    cloud.client("s3").delete_bucket(Bucket=cloud.bucket)
    # WHEN the daily cleanup runs
    described = cloud.wait(cloud.start_execution("CleanupStateMachine", {"trigger": "schedule"}))
    # THEN the run FAILED, and the operator got its own failure message and the alarm's
    assert described["status"] == "FAILED"
    notifications = cloud.notifications()
    assert "Lifeboat: retention cleanup FAILED" in [n["Subject"] for n in notifications]
    (alarm,) = [n for n in notifications if n["Subject"].startswith("ALARM")]
    assert alarm["Subject"] == 'ALARM: "lifeboat-dev-cleanup-executions-failed" in us-east-1'
    message = json.loads(alarm["Message"])
    assert message["NewStateValue"] == "ALARM"
    assert described["executionArn"] in message["NewStateReason"]


def test_a_successful_run_raises_no_alarm(cloud: LocalCloud) -> None:
    # GIVEN a stack with nothing to clean up WHEN the cleanup runs
    described = cloud.wait(cloud.start_execution("CleanupStateMachine", {"trigger": "schedule"}))
    # THEN it SUCCEEDED and nobody was notified
    assert described["status"] == "SUCCEEDED"
    assert cloud.notifications() == []


def _first_map_file_calls_fail() -> Any:
    """S3 answers the first read of a run's batches and the first write of its results with 503."""
    original = BotocoreStubber.__call__
    failed: set[str] = set()

    def flaky(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        for marker in ("batches.json", "cleanup/results/"):
            if event_name.startswith("before-send.s3.") and marker in request.url and marker not in failed:
                failed.add(marker)
                return _error(request, "rest-xml", "ServiceUnavailable", 503, "Please try again")
        return original(stubber, event_name, request, **kwargs)

    return mock.patch.object(BotocoreStubber, "__call__", flaky), failed


def test_a_transient_s3_error_on_the_maps_files_does_not_fail_the_run(cloud: LocalCloud) -> None:
    # GIVEN S3 that fails the Map's first read of its items and first write of its results
    patch, failed = _first_map_file_calls_fail()
    with patch:
        # WHEN the daily cleanup runs
        described = cloud.wait(cloud.start_execution("CleanupStateMachine", {"trigger": "schedule"}))
    # THEN both errors happened, were retried, and the run SUCCEEDED
    assert failed == {"batches.json", "cleanup/results/"}
    assert described["status"] == "SUCCEEDED", described
