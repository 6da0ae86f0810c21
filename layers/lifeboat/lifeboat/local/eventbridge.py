"""The envelope EventBridge puts around every event it delivers, for the events local mode sends
itself (schedules, alarm state changes, snapshot completions): one shape, as on AWS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = ["envelope"]


def envelope(
    detail_type: str,
    source: str,
    *,
    account: str,
    region: str,
    resources: list[str],
    detail: dict[str, Any],
    at: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event as a rule's target receives it (``at``: now by default)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources,
        "detail": detail,
    }
