"""Deterministic names: the same resource, tier and scheduled time always give the same id.

This is what makes every mutating step idempotent and what lets Lifeboat find its snapshots
without listing the account's snapshots.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from lifeboat.domain.policy import Tier

RECOVERY_POINT_PREFIX = "lb-"
_MAX_NAME_PART = 40
# RDS/Aurora snapshot identifiers: 1-255 letters, digits and hyphens, starting with a letter,
# no two consecutive hyphens, not ending with a hyphen.
RDS_IDENTIFIER = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,254}$")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:_MAX_NAME_PART].rstrip("-") or "resource"


def normalise_time(moment: datetime) -> datetime:
    """Scheduled times are compared at minute precision, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("scheduled times must carry a timezone")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def recovery_point_id(resource_arn: str, tier: Tier, scheduled_at: datetime) -> str:
    """``lb-<name>-<tier>-<yyyymmddhhmm>-<8 hex of the ARN>``: unique per account and region."""
    name = resource_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    digest = hashlib.sha256(resource_arn.encode()).hexdigest()[:8]
    stamp = normalise_time(scheduled_at).strftime("%Y%m%d%H%M")
    return f"{RECOVERY_POINT_PREFIX}{_slug(name)}-{tier.value}-{stamp}-{digest}"


def run_id(tier: Tier, scheduled_at: datetime) -> str:
    return f"{tier.value}-{normalise_time(scheduled_at).strftime('%Y%m%dT%H%MZ')}"


_POINT_TIME = re.compile(rf"-({'|'.join(t.value for t in Tier)})-(\d{{12}})-[0-9a-f]{{8}}(?::|$)")


def run_of(point_or_operation_id: str) -> str | None:
    """The run that makes a recovery point (named in an id), from its tier and scheduled minute;
    None for a catch-up copy (its point is an earlier run's, copied by another) or no point."""
    if point_or_operation_id.endswith(":catch-up"):
        return None
    found = _POINT_TIME.search(point_or_operation_id)
    if found is None:
        return None
    tier, stamp = found.groups()
    return run_id(Tier(tier), datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC))


def backup_operation_id(recovery_point: str) -> str:
    return f"backup:{recovery_point}"


def copy_operation_id(recovery_point: str, region: str, *, catch_up: bool = False) -> str:
    """The copy of a point to a region; a catch-up copy (a later run copying a point that
    region missed) has its own record beside the failed one, which keeps its cause."""
    return f"copy:{recovery_point}:{region}" + (":catch-up" if catch_up else "")


def scheduled_at_of_run(run: str) -> datetime:
    """The scheduled time a run id (``daily-20261122T0300Z``) names."""
    return datetime.strptime(run.rsplit("-", 1)[-1], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def operation_type_name(operation_id: str) -> str:
    """``backup:...`` -> ``BACKUP``: the id's prefix names the operation type."""
    return operation_id.split(":", 1)[0].upper()
