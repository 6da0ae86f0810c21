"""Shared set-up of the restore and drill tests: an emulated account whose RDS instances hold
real PostgreSQL data (local/dataplane.py), backed up twice by the real backup workflow."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lifeboat.demo.fleet import DemoFleet, seed_demo_fleet
from lifeboat.domain.operations import Operation
from lifeboat.local.dataplane import LocalDataPlane
from lifeboat.local.runtime import LocalCloud

from .backup_support import FAST, SOURCE, demo_instances, point_of, run, tags

DAY1 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
WEST, EU = "us-west-2", "eu-west-1"


@dataclass
class World:
    cloud: LocalCloud
    fleet: DemoFleet

    @property
    def plane(self) -> LocalDataPlane:
        assert self.cloud.data_plane is not None
        return self.cloud.data_plane

    def arn(self, name: str) -> str:
        return self.fleet.instances[name]

    def point(self, name: str, day: datetime = DAY2) -> str:
        return point_of(self.arn(name), day)

    def instances(self, region: str) -> dict[str, dict[str, Any]]:
        found = self.cloud.client("rds", region).describe_db_instances()["DBInstances"]
        return {i["DBInstanceIdentifier"]: i for i in found}

    def drill_leftovers(self) -> list[str]:
        """Temporary drill instances in any region, and local databases still behind one."""
        instances = [
            f"{region}/{name}"
            for region in (SOURCE, WEST, EU)
            for name in self.instances(region)
            if name.startswith("lbdrill-")
        ]
        databases = [
            f"{r}/{name} (database)" for r, name in self.plane.instances() if name.startswith("lbdrill-")
        ]
        return instances + databases

    def operations(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.cloud.operations() if item["type"] == kind]

    def operation(self, operation_id: str) -> Operation:
        found = self.cloud.store().get(operation_id)
        assert found is not None, f"no operation {operation_id}"
        return found

    def start(self, machine: str, payload: dict[str, Any]) -> dict[str, Any]:
        return run(self.cloud, self.cloud.start_execution(machine, payload))


def error_message(described: dict[str, Any]) -> str:
    """The errorMessage of the Lambda error that failed an execution."""
    return str(json.loads(described["cause"])["errorMessage"])


@contextmanager
def backed_up_world(log_dir: Path, *names: str, time_scale: float = FAST) -> Iterator[World]:
    """GIVEN the named demo instances with sample data, WHEN two daily runs back them up."""
    with LocalCloud(time_scale=time_scale, log_file=log_dir / "local.log", databases=True) as cloud:
        fleet = seed_demo_fleet(
            cloud, instances=demo_instances(*names), clusters=(), volumes=(), tables=(), caches=()
        )
        for day in (DAY1, DAY2):
            assert run(cloud, cloud.start_backup("daily", day))["status"] == "SUCCEEDED"
        yield World(cloud, fleet)


@contextmanager
def dump_changed(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """A snapshot's data altered for one test (corruption, truncation), then put back."""
    original = path.read_text()
    path.write_text(change(original))
    try:
        yield
    finally:
        path.write_text(original)


def _orders_block(dump: str) -> tuple[list[str], int, int]:
    lines = dump.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("COPY public.orders ")) + 1
    end = lines.index("\\.", start)
    return lines, start, end


def without_newest_orders(count: int) -> Callable[[str], str]:
    """Lose the newest ``count`` orders, as a backup cut short would."""

    def change(dump: str) -> str:
        lines, _, end = _orders_block(dump)
        return "\n".join(lines[: end - count] + lines[end:])

    return change


def with_changed_amount(dump: str) -> str:
    """One order's amount silently different: the row count is right, the data is not."""
    lines, start, _ = _orders_block(dump)
    fields = lines[start + 41].split("\t")
    fields[2] = str(int(fields[2]) + 1)
    lines[start + 41] = "\t".join(fields)
    return "\n".join(lines)


def with_widened_column(dump: str) -> str:
    """amount_cents restored as bigint: same rows, a different schema."""
    assert "amount_cents integer NOT NULL" in dump
    return dump.replace("amount_cents integer NOT NULL", "amount_cents bigint NOT NULL")


def unloadable(dump: str) -> str:
    """A dump that breaks off mid-statement: the restore itself fails."""
    lines, start, _ = _orders_block(dump)
    return "\n".join([*lines[: start + 10], "this is not a row"])


__all__ = ["SOURCE", "tags"]
