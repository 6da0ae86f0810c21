"""The failover workflow's sample events (events/failover/, recorded from a real local run) are
what each failover handler parses, and tell one consistent story."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.contracts.failover import (
    DnsResult,
    FailoverRecordRequest,
    FailoverRequest,
    ItemStep,
    ReadinessInput,
    SwitchDnsRequest,
)
from lifeboat.handler import parse
from pydantic import BaseModel

FAILOVER_EVENTS = Path(__file__).resolve().parents[2] / "events" / "failover"
INPUTS: dict[str, type[BaseModel]] = {
    "failover_request.json": FailoverRequest,
    "readiness_input.json": ReadinessInput,
    "promote_step.json": ItemStep,
    "promoted_step.json": ItemStep,
    "rebuild_step.json": ItemStep,  # failover_rebuild and failover_in_sync (a failback home)
    "switch_dns.json": SwitchDnsRequest,
    "dns_wait.json": DnsResult,
    "record.json": FailoverRecordRequest,
}


def _event(name: str) -> dict[str, Any]:
    return dict(json.loads((FAILOVER_EVENTS / name).read_text()))


def test_every_failover_event_is_a_handler_input() -> None:
    assert {p.name for p in FAILOVER_EVENTS.glob("*.json")} == set(INPUTS)


@pytest.mark.parametrize(("name", "model"), INPUTS.items())
def test_each_event_parses_with_its_handler_contract(name: str, model: type[BaseModel]) -> None:
    assert isinstance(parse(model, _event(name)), model)


def test_the_events_follow_one_failover() -> None:
    # GIVEN the recorded run: the promoted item is the plan's, and the DNS changes are the record's
    record = parse(FailoverRecordRequest, _event("record.json"))
    promoted = parse(ItemStep, _event("promoted_step.json")).item
    assert promoted in record.plan.items and promoted.mechanism.value == "promote-replica"
    assert record.dns is not None and record.dns == parse(DnsResult, _event("dns_wait.json"))
    assert {c.record for c in record.dns.changes} == {r.fqdn for r in record.plan.dns_records}
