"""A workflow that fails is never silent: the alarm on its state machine's failed executions
notifies the failure topic (local mode sends what CloudWatch would; local/execution_alarms.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from lifeboat.local.runtime import LocalCloud

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
