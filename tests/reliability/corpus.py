"""A corpus of malformed inputs for every handler, derived from its sample event in events/.

Each variant changes one thing a caller (or an attacker) could get wrong: a missing or extra
field, a wrong type, a 5,000-character string, a malformed or foreign ARN, an unknown resource
type or tier, a region that does not exist or is a path, a DR region equal to the source, an
impossible date, a name with SQL, shell or path metacharacters.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"

# Function logical id -> its sample events.
HANDLER_EVENTS: dict[str, tuple[str, ...]] = {
    "PlanFunction": ("plan.json",),
    "HealthCheckFunction": ("health_check.json",),
    "SnapshotFunction": ("snapshot.json",),
    "ValidateFunction": ("validate_source.json", "validate_copy.json"),
    "ReplicateFunction": ("replicate.json",),
    "CopySlotFunction": ("copy_slot.json",),
    "CompletionEventFunction": ("completion_event_rds.json", "completion_event_ebs.json"),
    "RunStoppedFunction": ("backup_run_stopped.json",),
    "UpdateStateFunction": ("update_state_failed.json", "update_state_copy_failed.json"),
    "CleanupPlanFunction": ("retention/cleanup_plan.json",),
    "CleanupDeleteFunction": ("retention/cleanup_delete.json",),
    "CleanupReportFunction": ("retention/cleanup_report.json",),
    "RpoMonitorFunction": ("health/rpo_monitor_schedule.json",),
    "AlarmTriggerFunction": ("health/alarm_rpo_breach_prod.json",),
    "NotifyFunction": ("health/state_stream_batch.json",),
    "ProfileSourceFunction": ("restore/profile_source.json",),
    "RestorePlanFunction": ("restore/restore_plan.json", "restore/drill_item_plan.json"),
    "RestoreStartFunction": ("restore/restore_step.json",),
    "RestoreWaitFunction": ("restore/restore_step.json",),
    "RestoreCheckFunction": ("restore/restore_step.json",),
    "RestoreRecordFunction": ("restore/restore_record_failed.json",),
    "DrillPlanFunction": ("restore/drill_plan.json",),
    "TeardownFunction": (
        "restore/drill_step.json",
        "restore/teardown_abort.json",
        "restore/teardown_drill_copy.json",
    ),
    "ExperimentPrepareFunction": ("experiment/prepare_input.json",),
    "ExperimentInjectFunction": ("experiment/inject_step.json",),
    "ExperimentObserveFunction": ("experiment/observe_step.json",),
    "ExperimentRollbackFunction": ("experiment/rollback_step.json",),
    "ExperimentRecordFunction": ("experiment/record_step.json",),
}

LONG = "a" * 5000
METACHARACTERS = ("orders'; DROP TABLE x;--", "$(rm -rf /)", "../../etc/passwd", "db\nname")
BAD_REGIONS = ("us-east-9", "../..")
BAD_DATES = ("2026-13-45T99:00:00Z", "yesterday")


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


Path_ = tuple[str | int, ...]


def _leaves(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _set(event: Any, path: Path_, value: Any) -> Any:
    changed = copy.deepcopy(event)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _first(event: Any, test: Any) -> Path_ | None:
    return next((path for path, value in _leaves(event) if test(path, value)), None)


def _is_arn(_: Path_, value: Any) -> bool:
    return isinstance(value, str) and value.startswith("arn:aws:") and ":lambda:" not in value


def _key_is(*names: str) -> Any:
    return lambda path, value: bool(path) and str(path[-1]) in names and isinstance(value, str)


def variants(event: Any) -> Iterator[tuple[str, Any]]:
    """(what is wrong, the malformed event): at least 10 for every sample."""
    yield "empty object", {}
    yield "not an object", ["a", "list"]
    if isinstance(event, dict):
        for key in list(event)[:2]:
            yield f"missing {key}", {k: v for k, v in event.items() if k != key}
        yield "extra field", {**event, "unexpectedField": "x"}
        first_key = next(iter(event))
        yield f"wrong type of {first_key}", {**event, first_key: 12345}
    for path, value in list(_leaves(event))[:3]:
        where = ".".join(str(step) for step in path)
        yield f"null {where}", _set(event, path, None)
        yield f"list for {where}", _set(event, path, [value])
    arn = _first(event, _is_arn)
    if arn is not None:
        original = str(_leaves_value(event, arn))
        yield "malformed ARN", _set(event, arn, "arn:aws:rds:us-east-1:123:db")
        yield "not an ARN", _set(event, arn, "orders-db")
        yield "foreign account ARN", _set(event, arn, original.replace("123456789012", "999999999999"))
        yield "foreign partition ARN", _set(event, arn, original.replace("arn:aws:", "arn:aws-cn:", 1))
        yield "unknown resource type", _set(event, arn, "arn:aws:sqs:us-east-1:123456789012:queue-1")
        yield "5,000-character ARN", _set(event, arn, original + LONG)
    tier = _first(event, _key_is("tier"))
    if tier is not None:
        yield "unknown tier", _set(event, tier, "yearly")
    region = _first(event, _key_is("region", "targetRegion", "sourceRegion"))
    if region is not None:
        for bad in BAD_REGIONS:
            yield f"region {bad}", _set(event, region, bad)
    target = _first(event, lambda p, v: len(p) >= 2 and p[-2] == "target" and p[-1] == "region")
    if target is not None:
        yield "DR region == source", _set(event, target, "us-east-1")
    when = _first(event, _key_is("scheduledAt", "time", "requestedAt", "executionStartTime", "startTime"))
    if when is not None:
        for bad in BAD_DATES:
            yield f"date {bad}", _set(event, when, bad)
    name = _first(
        event,
        _key_is("recoveryPointId", "targetId", "targetIdentifier", "operationId", "policy", "runId", "name"),
    )
    if name is not None:
        for bad in METACHARACTERS:
            yield f"name {bad!r}", _set(event, name, bad)
        yield "5,000-character name", _set(event, name, LONG)


def _leaves_value(event: Any, path: Path_) -> Any:
    value = event
    for step in path:
        value = value[step]
    return value
