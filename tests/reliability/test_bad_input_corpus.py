"""Every handler, fed 10+ malformed inputs each, refuses them with one of Lifeboat's error types
(or ignores them, saying why) and changes nothing in AWS (issue 12).

The corpus (corpus.py) is derived from each handler's sample event: missing and extra fields,
wrong types, malformed and foreign ARNs, 5,000-character strings, unknown types and tiers,
regions that do not exist or are paths, a DR region equal to the source, impossible dates, names
with SQL, shell and path metacharacters. Mutating calls are counted by a botocore hook, and the
account's snapshots, cluster snapshots, EBS snapshots, backups and exports are compared before
and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.local.runtime import LocalCloud

from .audit import inventory, seed_three_types
from .bad_input import feed
from .corpus import HANDLER_EVENTS


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """An account with a day's recovery points of an RDS instance, an EBS volume and a table."""
    log = tmp_path_factory.mktemp("corpus") / "local.log"
    with LocalCloud(time_scale=0.0001, log_file=log) as cloud:
        fleet = seed_three_types(cloud)
        backup = cloud.deliver_schedule("DailyBackupSchedule", datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
        assert cloud.wait(backup)["status"] == "SUCCEEDED"
        yield cloud, fleet


@pytest.mark.parametrize("handler", sorted(HANDLER_EVENTS))
def test_malformed_inputs_end_in_lifeboat_errors_and_change_nothing(
    account: tuple[LocalCloud, DemoFleet], handler: str
) -> None:
    cloud, fleet = account
    before = inventory(cloud, fleet)
    # GIVEN the handler's malformed inputs, WHEN each is invoked
    outcomes = feed(cloud, handler)
    # THEN there are at least 10, none crashes with a raw error, none makes a mutating call, and
    # no recovery point appeared or disappeared
    assert len(outcomes) >= 10
    assert [(o.variant, o.detail) for o in outcomes if o.kind == "raw crash"] == []
    assert [(o.variant, o.mutations) for o in outcomes if o.mutations] == []
    assert inventory(cloud, fleet) == before
