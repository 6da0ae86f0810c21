"""The backup workflow profiles data-checked databases before their snapshot (the level-2
baseline), and a database it cannot reach never costs the backup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from lifeboat.sqlchecks.connection import ROUTES, Route

from .backup_support import run
from .restore_support import DAY2, SOURCE, World, backed_up_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """GIVEN orders-db (data checks configured) and reports-db (none), backed up by the real workflow."""
    with backed_up_world(tmp_path_factory.mktemp("profile"), "orders-db", "reports-db") as w:
        yield w


def test_a_data_checked_database_is_profiled_with_its_backup(world: World) -> None:
    # THEN orders-db's backup operation carries the profile its restores are compared with
    profile = world.operation(f"backup:{world.point('orders-db')}").details["sourceProfile"]
    assert {t["name"]: t["rowCount"] for t in profile["tables"]} == {
        "public.orders": 4000,
        "public.customers": 500,
    }
    assert len(profile["schemaFingerprint"]) == 64 and profile["canary"] == "500"
    # AND a database without data checks is not profiled (no connection, no cost)
    assert "sourceProfile" not in world.operation(f"backup:{world.point('reports-db')}").details


def test_an_unreachable_database_is_recorded_and_the_backup_still_succeeds(world: World) -> None:
    # GIVEN orders-db's endpoint stops answering
    instance = world.instances(SOURCE)["orders-db"]
    address = instance["Endpoint"]["Address"]
    route = ROUTES.get(address)
    assert route is not None
    ROUTES.add(address, Route(host="/nonexistent-socket-dir", port=5432, dbname="shop", sslmode="disable"))
    try:
        # WHEN the next daily run backs it up
        day3 = DAY2 + timedelta(days=1)
        assert run(world.cloud, world.cloud.start_backup("daily", day3))["status"] == "SUCCEEDED"
    finally:
        ROUTES.add(address, route)
    # THEN the backup SUCCEEDED with its snapshot, and the operation says why there is no profile
    backup = world.operation(f"backup:{world.point('orders-db', day3)}")
    assert backup.status.value == "SUCCEEDED"
    assert "cannot connect" in backup.details["sourceProfileError"]
    assert "sourceProfile" not in backup.details
