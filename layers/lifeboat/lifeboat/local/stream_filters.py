"""Lambda event filtering on the state table's stream, as the event source mapping applies it.

Lambda passes a stream record to the function only when it matches one of the mapping's
``FilterCriteria`` patterns (EventBridge pattern syntax); the others are dropped without an
invocation. Local mode delivers the stream itself (local/events.py), so it applies the template's
patterns the same way, and a routine write that AWS would never deliver is not delivered here.
The same matcher serves the template's EventBridge rules that local mode delivers
(local/point_events.py). Only the syntax the template uses is supported (exact values in lists,
``prefix``, nested objects); any other operator is refused rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["event_rules", "matches", "stream_filters"]


def stream_filters(function: dict[str, Any]) -> list[dict[str, Any]]:
    """The filter patterns of a function's DynamoDB stream event sources (none: every record)."""
    patterns: list[dict[str, Any]] = []
    for event in function["Properties"].get("Events", {}).values():
        if event.get("Type") != "DynamoDB":
            continue
        for entry in event["Properties"].get("FilterCriteria", {}).get("Filters", []):
            patterns.append(json.loads(entry["Pattern"]))
    return patterns


def event_rules(function: dict[str, Any]) -> list[dict[str, Any]]:
    """The event patterns of a function's EventBridge rules."""
    return [
        event["Properties"]["Pattern"]
        for event in function["Properties"].get("Events", {}).values()
        if event.get("Type") == "EventBridgeRule"
    ]


def resolved(pattern: dict[str, Any], resolve: Callable[[Any], str]) -> dict[str, Any]:
    """A rule's pattern with the template references among its values (``!Ref`` a state
    machine) replaced by what they name locally."""

    def value(v: Any) -> Any:
        if isinstance(v, dict) and ("Ref" in v or any(k.startswith("Fn::") for k in v)):
            return resolve(v)
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return {k: value(v) for k, v in pattern.items()}


def _one_of(expected: list[Any], actual: Any) -> bool:
    for value in expected:
        if isinstance(value, dict):
            if set(value) != {"prefix"}:
                raise ValueError(f"filter operator not supported locally: {value!r}")
            if isinstance(actual, str) and actual.startswith(value["prefix"]):
                return True
        elif actual == value:
            return True
    return False


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether ``record`` matches an EventBridge-style ``pattern`` of exact values."""
    for key, expected in pattern.items():
        if key not in record:
            return False
        actual = record[key]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _one_of(expected, actual):
                return False
        else:
            raise ValueError(f"a filter value must be a list or an object: {key}={expected!r}")
    return True
