"""A DR region that is down cannot make a copy step outlive its Lambda timeout (issue 20).

The copy steps (CopyToRegion -> ReplicateFunction, ValidateCopy -> ValidateFunction) call the DR
region with ``DR_REGION_CONFIG``: 3 attempts, 3 s to connect, 60 s to read. When the region
leaves every attempt unanswered, one call takes at most 3 x (3 + 60) + 1 + 2 (botocore's longest
back-offs) = 192 s; the step then fails RegionUnreachable and trips the region's breaker, so no
second call to that region follows in the task. Its other calls (the state table, the source
region) answer: 60 s is kept for them.
"""

from __future__ import annotations

import pytest
from lifeboat.aws.clients import DR_REGION_CONFIG, RETRY_CONFIG, worst_case_seconds
from lifeboat.local.template import load_template

COPY_STEP_FUNCTIONS = ("ReplicateFunction", "ValidateFunction")
HEALTHY_CALLS_SECONDS = 60


def _timeout(logical_id: str) -> int:
    body = load_template().body
    properties = body["Resources"][logical_id]["Properties"]
    return int(properties.get("Timeout", body["Globals"]["Function"]["Timeout"]))


def test_the_worst_case_of_one_dead_region_call_is_the_documented_arithmetic() -> None:
    assert worst_case_seconds(DR_REGION_CONFIG) == 3 * (3 + 60) + 1 + 2 == 192
    # (with the ordinary retry budget it would be 9 x (5 + 60) + 91 = 676 s: longer than any
    # copy step's timeout, so a dead region would time the task out instead of failing it)
    assert worst_case_seconds(RETRY_CONFIG) == 676


@pytest.mark.parametrize("function", COPY_STEP_FUNCTIONS)
def test_a_copy_step_fails_inside_its_timeout_when_its_region_is_down(function: str) -> None:
    assert worst_case_seconds(DR_REGION_CONFIG) + HEALTHY_CALLS_SECONDS <= _timeout(function)
