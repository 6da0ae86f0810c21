"""How long a daily backup cycle of a large fleet takes against AWS's concurrent-copy quota.

A discrete-event simulation on a virtual clock. The copy gate is the real one
(``lifeboat/state/copy_gate.py`` on the local mode's DynamoDB, every acquire, hand-off and release
made as the workflow makes them); the waits are the real definitions': where CreateSnapshot and
CopyToRegion wait for their token (``statemachines/backup.asl.json``), a point is seen done when
its completion event arrives (``--event-latency-seconds`` after it is done); with
``--waits polling`` (a DR region whose events are not forwarded) by the ``ResourceNotReady``
Retry of ValidateSnapshot and ValidateCopy, read from the same file. AWS's times are the
arguments. Every snapshot of the run starts at once (the Map's concurrency is
1,000 by default); a copy asks the gate for a slot when its snapshot's validation sees it done,
holds the slot from its start until its validation sees it finished, and hands it to the next
copy in line.

Reports the cycle's length against the quota floor (N / limit x copy minutes: the copies of each
destination region one after another, both regions at once), how long copies waited for a slot,
how much longer than the copy itself a slot was held (the event's latency or the validation's
poll interval), the most
copies ever inside a gate, and the gate's state-table calls per resource.

    python bench/daily_cycle.py [--resources 1000] [--snapshot-minutes 10] [--copy-minutes 10]
        [--limit 20] [--waits events|polling] [--event-latency-seconds 60] [--json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backup_cycle import fleet_parser
from lifeboat.local.runtime import LocalCloud
from lifeboat.state import copy_gate

ASL = Path(__file__).resolve().parents[1] / "statemachines" / "backup.asl.json"
DR_REGIONS = ("us-west-2", "eu-west-1")
START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def poll_offsets(state: dict[str, Any], horizon_s: float) -> list[float]:
    """When a state with a ``ResourceNotReady`` Retry runs, in seconds after its first attempt."""
    retry = next(r for r in state["Retry"] if r["ErrorEquals"] == ["ResourceNotReady"])
    interval, rate = float(retry["IntervalSeconds"]), float(retry.get("BackoffRate", 2.0))
    cap = float(retry.get("MaxDelaySeconds", 1e9))
    offsets, at = [0.0], 0.0
    for _ in range(int(retry["MaxAttempts"])):
        at += min(interval, cap)
        offsets.append(at)
        interval *= rate
        if at > horizon_s:
            break
    return offsets


def _states() -> dict[str, dict[str, Any]]:
    child = json.loads(ASL.read_text())["States"]["BackupEachResource"]["ItemProcessor"]["States"]
    copies = child["ReplicateToDrRegions"]["ItemProcessor"]["States"]
    return {
        "CreateSnapshot": child["CreateSnapshot"],
        "ValidateSnapshot": child["ValidateSnapshot"],
        "CopyToRegion": copies["CopyToRegion"],
        "ValidateCopy": copies["ValidateCopy"],
    }


def _awaits(state: dict[str, Any]) -> bool:
    """Whether the state waits for its task token (resumed by the point's completion event)."""
    return str(state["Resource"]).endswith(".waitForTaskToken")


class Waits:
    """When the workflow sees a point done: its completion event, or the validation's poll."""

    def __init__(self, starts: dict[str, Any], validation: dict[str, Any], takes: float, args: Any) -> None:
        self.takes = takes
        self.latency = args.event_latency_seconds if args.waits == "events" and _awaits(starts) else None
        self.polls = poll_offsets(validation, takes)

    def seen_done(self, started: float) -> float:
        if self.latency is not None:
            return started + self.takes + self.latency
        return started + next(o for o in self.polls if o >= self.takes)


class Cycle:
    """The simulation: events on a heap, the gate in the state table."""

    def __init__(self, cloud: LocalCloud, args: argparse.Namespace) -> None:
        self.store = cloud.store()
        self.args = args
        states = _states()
        self.copy_s = args.copy_minutes * 60
        self.snapshot = Waits(
            states["CreateSnapshot"], states["ValidateSnapshot"], args.snapshot_minutes * 60, args
        )
        self.copy = Waits(states["CopyToRegion"], states["ValidateCopy"], self.copy_s, args)
        self.events: list[tuple[float, int, str, str, str]] = []
        self.sequence = 0
        self.asked: dict[tuple[str, str], float] = {}
        self.waited: list[float] = []
        self.held_over: list[float] = []
        self.inside: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.done_at = 0.0

    def push(self, at: float, kind: str, resource: str, region: str) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, kind, resource, region))

    def start_copy(self, at: float, resource: str, region: str) -> None:
        gate = copy_gate.gate_id(region, "rds_instance")
        self.inside[gate] += 1
        self.most[gate] = max(self.most[gate], self.inside[gate])
        self.waited.append(at - self.asked[(resource, region)])
        seen = self.copy.seen_done(at)
        self.held_over.append(seen - at - self.copy_s)
        self.push(seen, "copy-seen-done", resource, region)

    def handle(self, at: float, kind: str, resource: str, region: str) -> None:
        now = START + timedelta(seconds=at)
        gate = copy_gate.gate_id(region, "rds_instance")
        holder = f"copy:{resource}:{region}"
        if kind == "snapshot-seen-done":
            for target in DR_REGIONS:
                self.asked[(resource, target)] = at
                self.push(at, "ask-slot", resource, target)
        elif kind == "ask-slot":
            admission = copy_gate.acquire(
                self.store, gate, holder, f"token:{holder}", limit=self.args.limit, now=now
            )
            self.wake(at, admission.served)
            if admission.granted:
                self.start_copy(at, resource, region)
        elif kind == "copy-seen-done":
            self.inside[gate] -= 1
            self.done_at = max(self.done_at, at)
            self.wake(at, copy_gate.release(self.store, gate, holder, limit=self.args.limit, now=now))

    def wake(self, at: float, tickets: tuple[copy_gate.Ticket, ...]) -> None:
        for ticket in tickets:
            _, resource, region = ticket.holder.split(":")
            self.start_copy(at, resource, region)

    def run(self) -> None:
        snapshot_seen = self.snapshot.seen_done(0.0)
        for index in range(self.args.resources):
            self.push(snapshot_seen, "snapshot-seen-done", f"lb-db-{index:05d}", "")
        while self.events:
            at, _, kind, resource, region = heapq.heappop(self.events)
            self.handle(at, kind, resource, region)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = fleet_parser(__doc__, resources=1000, snapshot_minutes=10, copy_minutes=10)
    parser.add_argument("--limit", type=int, default=20, help="concurrent copies per destination region")
    parser.add_argument("--waits", choices=("events", "polling"), default="events")
    parser.add_argument(
        "--event-latency-seconds", type=float, default=60, help="a completion event arrives this long after"
    )
    args = parser.parse_args(argv)
    with LocalCloud() as cloud:
        calls_before = Counter(cloud.meter.calls)
        cycle = Cycle(cloud, args)
        cycle.run()
        gate_calls = {
            op: n - calls_before.get(("dynamodb", op), 0)
            for (service, op), n in cloud.meter.calls.items()
            if service == "dynamodb" and n - calls_before.get(("dynamodb", op), 0)
        }
    floor = args.resources / args.limit * args.copy_minutes
    minutes = cycle.done_at / 60
    result = {
        "resources": args.resources,
        "dr_regions": len(DR_REGIONS),
        "limit_per_region": args.limit,
        "snapshot_minutes": args.snapshot_minutes,
        "copy_minutes": args.copy_minutes,
        "cycle_minutes": round(minutes, 1),
        "quota_floor_minutes": round(floor, 1),
        "ratio_to_floor": round(minutes / floor, 3),
        "waits": args.waits,
        "snapshot_seen_done_after_minutes": round(cycle.snapshot.seen_done(0.0) / 60, 1),
        "longest_wait_for_a_slot_minutes": round(max(cycle.waited) / 60, 1),
        "slot_held_beyond_the_copy_minutes": round(max(cycle.held_over) / 60, 1),
        "most_copies_inside_a_gate": max(cycle.most.values()),
        "gate_state_table_calls_per_resource": round(sum(gate_calls.values()) / args.resources, 2),
        "gate_state_table_calls": gate_calls,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:40} {value}")
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
