"""Feed the corpus to every handler on an emulated account and classify what each input did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
from lifeboat.errors import LifeboatError
from lifeboat.local.runtime import LocalCloud

from .corpus import HANDLER_EVENTS, sample, variants

# Calls that change AWS. Allowed: the state table's writes (a refused input may be recorded) and
# SNS Publish (telling people is not changing anything they protect).
_MUTATING_PREFIXES = (
    "Create",
    "Copy",
    "Delete",
    "Restore",
    "Modify",
    "Start",
    "Stop",
    "Export",
    "Import",
    "Tag",
    "Untag",
    "Add",
    "Remove",
    "Put",
    "Update",
    "Reboot",
    "Promote",
    "Publish",
    "Send",
    "Invoke",
)
_ALLOWED = {
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "TransactWriteItems"),
    ("sns", "Publish"),
}


# The emulator's own calls (Step Functions, Lambda, logs, metrics) are not the handlers'.
_ENGINE = frozenset({"stepfunctions", "lambda", "logs", "cloudwatch"})


@dataclass
class Outcome:
    handler: str
    variant: str
    kind: str  # "clear error", "accepted", "raw crash"
    detail: str
    mutations: list[str] = field(default_factory=list)


class MutationCounter:
    """A botocore before-call hook: every mutating call the handlers make."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        mutating = operation.startswith(_MUTATING_PREFIXES) and (service, operation) not in _ALLOWED
        if mutating and service not in _ENGINE:
            self.calls.append(f"{service}:{operation}")


def feed(cloud: LocalCloud, handler: str) -> list[Outcome]:
    counter = MutationCounter()
    events = boto3._get_default_session().events
    events.register("before-call", counter)
    outcomes = []
    try:
        for name in HANDLER_EVENTS[handler]:
            for what, event in variants(sample(name)):
                counter.calls.clear()
                try:
                    cloud.invoke_function(handler, event)
                    kind, detail = "accepted", ""
                except LifeboatError as exc:
                    kind, detail = "clear error", f"{type(exc).__name__}: {str(exc)[:200]}"
                except Exception as exc:
                    kind, detail = "raw crash", f"{type(exc).__name__}: {str(exc)[:200]}"
                outcomes.append(Outcome(handler, f"{name}: {what}", kind, detail, list(counter.calls)))
    finally:
        events.unregister("before-call", counter)
    return outcomes


def summary(outcomes: list[Outcome]) -> Counter[str]:
    counts = Counter(o.kind for o in outcomes)
    counts["inputs"] = len(outcomes)
    counts["with mutations"] = sum(1 for o in outcomes if o.mutations)
    return counts
