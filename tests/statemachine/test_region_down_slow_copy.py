"""A slow copy in the healthy DR region is never marked failed by the other region's outage
(issue 20). Before: the copy Map failed as a whole on the down region's error, the backup was
recorded FAILED, and the still-copying us-west-2 copy was recorded FAILED with eu-west-1's error
and no cause, then completed anyway."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from lifeboat.local.faults import FaultPlan

from .backup_support import SCHEDULED_AT, backup_of, copy_of, instance_fleet, run

SLOW, DOWN = "us-west-2", "eu-west-1"
POLLS_WHILE_COPYING = 3


def test_a_slow_copy_in_the_healthy_region_completes_while_the_other_region_is_down(tmp_path: Path) -> None:
    from moto.rds.models import RDSBackend

    describe: Callable[..., Any] = RDSBackend.describe_db_snapshots
    polls: dict[str, int] = {}

    def copying_for_a_while(self: Any, *args: Any, **kwargs: Any) -> Any:
        """us-west-2's copy reports "copying" to the first few polls, as a large copy would."""
        snapshots = describe(self, *args, **kwargs)
        if self.region_name == SLOW:
            for snapshot in snapshots:
                key = snapshot.db_snapshot_identifier
                seen = polls[key] = polls.get(key, 0) + 1
                snapshot.status = "copying" if seen <= POLLS_WHILE_COPYING else "available"
        return snapshots

    with (
        instance_fleet(tmp_path, "orders-db") as (cloud, fleet),
        mock.patch.object(RDSBackend, "describe_db_snapshots", copying_for_a_while),
    ):
        arn = fleet.instances["orders-db"]
        # GIVEN eu-west-1 down for the whole run, and orders-db's us-west-2 copy slow to complete
        with cloud.faults(FaultPlan(seed=3, error_rate=0.0, down_regions=frozenset({DOWN}))):
            # WHEN the daily backup runs
            execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT))
        # THEN the us-west-2 copy was polled while copying and SUCCEEDED, validated, its record
        # untouched by eu-west-1's failure
        assert execution["status"] == "SUCCEEDED"
        assert max(polls.values()) > POLLS_WHILE_COPYING
        west = copy_of(cloud, arn, SLOW)
        assert west is not None and west.status.value == "SUCCEEDED" and west.error is None
        assert west.validated
        # AND eu-west-1's copy is FAILED with its own cause; the backup is PARTIAL
        down = copy_of(cloud, arn, DOWN)
        assert down is not None and (down.status.value, down.error) == ("FAILED", "RegionUnreachable")
        assert down.cause is not None and DOWN in down.cause
        assert backup_of(cloud, arn).status.value == "PARTIAL"
