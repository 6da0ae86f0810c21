"""The AWS API calls of a daily cycle per protected resource, counted by the bench on the real ASL:
a regression in a plugin's calls fails here, not only in `make bench`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .backup_support import backup_cycle_bench

# Calls per resource and cycle with 2 DR regions, discovery aside (README, Measurements).
BUDGETS = {"rds_instance": 7.0, "dynamodb_table": 22.0}
# Where the manual-snapshot quota is read: RDS has one (read by the plan), DynamoDB none.
QUOTA_READERS = {"rds_instance": ["Plan"], "dynamodb_table": []}


@pytest.mark.parametrize("resource_type", sorted(BUDGETS))
def test_a_daily_cycle_stays_within_its_call_budget(resource_type: str, tmp_path: Path) -> None:
    """GIVEN 3 encrypted prod resources of a type (2 DR regions) and a day of retained history
    WHEN the next daily cycle runs THEN every backup SUCCEEDED, the calls per resource are within
    the type's budget, no step listed backups, exports or snapshots to find its own, and the DR
    keys and the snapshot quota were read by the plan alone: once per region, not per resource."""
    result = backup_cycle_bench().measure(3, 1, resource_type, log_file=tmp_path / "local.log")

    assert result["succeeded"] == 3
    assert result["per_resource"]["aws_api_calls_without_discovery"] <= BUDGETS[resource_type], result[
        "aws_api_calls_by_step"
    ]
    listings = [
        api
        for step, apis in result["aws_api_calls_by_step"].items()
        if step != "Plan"
        for api in apis
        if ":List" in api
    ]
    assert listings == []
    by_step = result["aws_api_calls_by_step"]
    kms = {step: apis["kms:DescribeKey"] for step, apis in by_step.items() if "kms:DescribeKey" in apis}
    assert kms == {"Plan": pytest.approx(2 / 3, abs=0.01)}, by_step
    quota = [step for step, apis in by_step.items() if "rds:DescribeAccountAttributes" in apis]
    assert quota == QUOTA_READERS[resource_type], by_step
