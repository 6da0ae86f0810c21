"""Restores and drills: what a restored resource must look like, and how it is named and tagged.

Pure: plugins describe restored resources as ``RestoredFacts``; these rules decide whether the
restore is what an operator asked for (private, encrypted like its recovery point, protected in
prod, tagged) and which resources a teardown may touch.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from lifeboat.domain.ids import normalise_time
from lifeboat.domain.models import CamelModel
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import MANAGED_BY_TAG, MANAGED_BY_VALUE, RESOURCE_TAG, Check

RESTORED_FROM_TAG = "lifeboat:restored-from"
RESTORE_OPERATION_TAG = "lifeboat:restore-operation"
PURPOSE_TAG = "lifeboat:purpose"
# Set on a restored resource whose restore failed or whose checks failed: a person decides.
CLEANUP_TAG = "lifeboat:cleanup"

# RDS DB instance / cluster identifiers: 1-63 letters, digits and hyphens, starting with a
# letter, no two consecutive hyphens, not ending with a hyphen.
DB_IDENTIFIER = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,62}$")
_MAX_IDENTIFIER = 63


class Purpose(StrEnum):
    RESTORE = "restore"
    DRILL = "drill"


class RestoreSpec(CamelModel):
    """What a plugin is asked to create: always a new resource, never publicly accessible."""

    target_id: str
    region: str
    deletion_protection: bool
    network: RestoreNetwork = Field(default_factory=RestoreNetwork)
    instance_class: str | None = None
    tags: dict[str, str]


class RestoredFacts(CamelModel):
    """A restored resource as the cloud describes it."""

    identifier: str
    arn: str
    region: str
    status: str
    ready: bool
    failed: bool = False
    endpoint: str | None = None
    port: int | None = None
    publicly_accessible: bool | None = None
    encrypted: bool
    kms_key_id: str | None = None
    engine: str | None = None
    engine_version: str | None = None
    deletion_protection: bool | None = None
    tags: dict[str, str]


def restore_tags(
    resource_tags: dict[str, str],
    *,
    resource_arn: str,
    restored_from: str,
    operation_id: str,
    purpose: Purpose,
) -> dict[str, str]:
    """The source's own tags plus Lifeboat's: where it came from and which operation owns it."""
    own = {k: v for k, v in resource_tags.items() if not k.startswith("aws:")}
    return own | {
        MANAGED_BY_TAG: MANAGED_BY_VALUE,
        RESOURCE_TAG: resource_arn,
        RESTORED_FROM_TAG: restored_from,
        RESTORE_OPERATION_TAG: operation_id,
        PURPOSE_TAG: purpose.value,
    }


def owned_by(tags: dict[str, str], operation_id: str) -> bool:
    """True when the restored resource was created by that restore or drill operation."""
    return tags.get(MANAGED_BY_TAG) == MANAGED_BY_VALUE and tags.get(RESTORE_OPERATION_TAG) == operation_id


def is_drill_resource(tags: dict[str, str], operation_id: str) -> bool:
    """Only a drill's own temporary resource may ever be torn down by Lifeboat."""
    return owned_by(tags, operation_id) and tags.get(PURPOSE_TAG) == Purpose.DRILL.value


def check_identifier(identifier: str) -> str:
    if not DB_IDENTIFIER.match(identifier):
        raise ValueError(
            f"{identifier!r} is not a valid DB identifier: 1-63 letters, digits or hyphens, starting "
            "with a letter, without two consecutive hyphens or a trailing hyphen"
        )
    return identifier


def _slug(name: str, room: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:room].rstrip("-") or "db"


def restore_identifier(source_name: str, requested_at: datetime) -> str:
    """``<name>-r<yyyymmddhhmm>``: the default target of a restore requested at that minute."""
    suffix = f"-r{normalise_time(requested_at):%Y%m%d%H%M}"
    return f"{_slug(source_name, _MAX_IDENTIFIER - len(suffix))}{suffix}"


def drill_identifier(source_arn: str, started_at: datetime, execution_id: str) -> str:
    """``lbdrill-<name>-<yyyymmddhhmm>-<4 hex>``: the same for every retry of one drill execution,
    different for two drills of one resource started in the same minute."""
    digest = hashlib.sha256(f"{source_arn}|{execution_id}".encode()).hexdigest()[:4]
    suffix = f"-{normalise_time(started_at):%Y%m%d%H%M}-{digest}"
    name = source_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return f"lbdrill-{_slug(name, _MAX_IDENTIFIER - len('lbdrill-') - len(suffix))}{suffix}"


def restored_checks(
    facts: RestoredFacts,
    *,
    encrypted: bool,
    kms_key_id: str | None,
    engine: str | None,
    deletion_protection: bool,
    expected_tags: dict[str, str],
) -> list[Check]:
    """Level-1 checks of a restored resource: available, private, encrypted as its recovery point
    (same key), same engine, deletion protection as the environment requires, tags present."""
    missing = sorted(k for k, v in expected_tags.items() if facts.tags.get(k) != v)
    checks = [
        Check(name="available", expected=True, actual=facts.ready, passed=facts.ready),
        Check(
            name="not_publicly_accessible",
            expected=False,
            actual=facts.publicly_accessible,
            passed=facts.publicly_accessible is not True,
        ),
        Check(
            name="encrypted", expected=encrypted, actual=facts.encrypted, passed=facts.encrypted == encrypted
        ),
        Check(
            name="engine",
            expected=engine,
            actual=facts.engine,
            passed=engine is None or facts.engine == engine,
        ),
        Check(
            name="deletion_protection",
            expected=deletion_protection,
            actual=facts.deletion_protection,
            passed=facts.deletion_protection is None or facts.deletion_protection == deletion_protection,
        ),
        Check(
            name="lifeboat_tags",
            expected=sorted(expected_tags),
            actual=(missing and f"missing or wrong: {', '.join(missing)}") or "present",
            passed=not missing,
        ),
    ]
    if encrypted:
        checks.insert(
            3,
            Check(
                name="kms_key",
                expected=kms_key_id,
                actual=facts.kms_key_id,
                passed=kms_key_id is None or facts.kms_key_id == kms_key_id,
            ),
        )
    return checks
