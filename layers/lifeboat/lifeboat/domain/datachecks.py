"""Validation level 2: what a restored database must contain, compared with its source.

Pure. At backup time the source database is profiled (schema fingerprint, row counts, checksums
over a stable key range, the canary); after a restore the restored database is profiled with the
same bounds and the two are compared here, check by check, as an operator reads them.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field, field_validator

from lifeboat.domain.models import CamelModel
from lifeboat.domain.recovery import Check

_QUALIFIED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TableCheck(CamelModel):
    """One table to count and checksum; ``key`` orders the rows for a stable checksum."""

    name: str = Field(description="schema.table, or a table of the public schema")
    key: str = Field(description="a unique, ordered column (usually the primary key)")
    row_count_tolerance_percent: float = Field(default=1.0, ge=0, le=100)
    # Rows with key <= this bound are checksummed. Unset: the largest key when the source was
    # profiled, which is right for append-only tables; set it for tables whose recent rows change.
    checksum_up_to: int | None = None

    @field_validator("name")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not _QUALIFIED_NAME.match(value):
            raise ValueError(f"{value!r} is not a table name (schema.table, letters, digits, _)")
        return value

    @field_validator("key")
    @classmethod
    def _column(cls, value: str) -> str:
        if not _COLUMN.match(value):
            raise ValueError(f"{value!r} is not a column name (letters, digits, _)")
        return value


class CanaryCheck(CamelModel):
    """A query that must return one row: equal to ``expect`` when given, otherwise to the source's
    answer at backup time."""

    sql: str = Field(min_length=1)
    expect: str | None = None


class DataChecks(CamelModel):
    """The level-2 checks of one database, from the config document's ``dataChecks``."""

    engine: str = "postgres"
    # Secrets Manager secret holding {"username", "password"}: a restored instance keeps the
    # source's master credentials, so the source's secret opens it too.
    secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")
    database: str = Field(min_length=1)
    sslmode: str = "require"
    tables: list[TableCheck] = Field(default_factory=list)
    canary: CanaryCheck | None = None
    # Returns the time of the newest committed transaction (e.g. max(created_at) of a busy table):
    # the data age of a restore. Without it the recovery point's time stands in.
    freshness_sql: str | None = None

    @field_validator("engine")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value != "postgres":
            raise ValueError(
                f"data checks support engine 'postgres' (PostgreSQL, Aurora PostgreSQL), not {value!r}"
            )
        return value


class TableProfile(CamelModel):
    name: str
    exists: bool = True
    row_count: int | None = None
    checksum_up_to: int | None = None
    checksum: str | None = None


class DatabaseProfile(CamelModel):
    """What a database held at one moment, in a form two databases can be compared by."""

    captured_at: datetime
    schema_fingerprint: str
    schema_objects: int
    tables: list[TableProfile] = Field(default_factory=list)
    canary: str | None = None
    newest_commit_at: datetime | None = None

    def table(self, name: str) -> TableProfile | None:
        return next((t for t in self.tables if t.name == name), None)


def checksum_bounds(config: DataChecks, source: DatabaseProfile | None) -> dict[str, int | None]:
    """The key bound each table is checksummed up to: configured, else the source's at backup time."""
    bounds: dict[str, int | None] = {}
    for table in config.tables:
        recorded = source.table(table.name) if source else None
        bounds[table.name] = table.checksum_up_to or (recorded.checksum_up_to if recorded else None)
    return bounds


def compare(
    config: DataChecks, source: DatabaseProfile | None, restored: DatabaseProfile, *, profiled: bool = True
) -> list[Check]:
    """Each configured check, expected (source at backup time) against actual (the restore).

    ``profiled`` False (a point-in-time restore: no backup ran at that moment) leaves only the
    canary.
    """
    checks = _profile_checks(config, source, restored) if profiled else []
    if config.canary is not None:
        checks.append(_canary(config.canary, source, restored))
    return checks


def _canary(canary: CanaryCheck, source: DatabaseProfile | None, restored: DatabaseProfile) -> Check:
    """Equal to ``expect``, else to the source's answer at backup time; with neither (a
    point-in-time restore) the query must at least answer."""
    expected = canary.expect if canary.expect is not None else (source.canary if source else None)
    if expected is None:
        return Check(
            name="canary",
            expected="an answer (no baseline)",
            actual=restored.canary,
            passed=restored.canary is not None,
        )
    return Check(name="canary", expected=expected, actual=restored.canary, passed=restored.canary == expected)


def _profile_checks(
    config: DataChecks, source: DatabaseProfile | None, restored: DatabaseProfile
) -> list[Check]:
    if source is None:
        return [
            Check(
                name="source_profile",
                expected="profiled at backup time",
                actual="none recorded for this recovery point",
                passed=False,
            )
        ]
    checks = [
        Check(
            name="schema_fingerprint",
            expected=source.schema_fingerprint,
            actual=restored.schema_fingerprint,
            passed=source.schema_fingerprint == restored.schema_fingerprint,
        )
    ]
    for table in config.tables:
        checks += _table_checks(table, source.table(table.name), restored.table(table.name))
    return checks


def _table_checks(
    config: TableCheck, source: TableProfile | None, restored: TableProfile | None
) -> list[Check]:
    name = config.name
    if source is None or not source.exists or source.row_count is None:
        return [
            Check(
                name=f"row_count:{name}",
                expected="profiled at backup time",
                actual="not recorded",
                passed=False,
            )
        ]
    if restored is None or not restored.exists or restored.row_count is None:
        return [
            Check(name=f"row_count:{name}", expected=source.row_count, actual="table missing", passed=False)
        ]
    allowed = source.row_count * config.row_count_tolerance_percent / 100
    checks = [
        Check(
            name=f"row_count:{name}",
            expected=f"{source.row_count} ±{config.row_count_tolerance_percent:g}%",
            actual=restored.row_count,
            passed=abs(restored.row_count - source.row_count) <= allowed,
        )
    ]
    if source.checksum is not None:
        checks.append(
            Check(
                name=f"checksum:{name}",
                expected=f"{source.checksum} (keys <= {source.checksum_up_to})",
                actual=restored.checksum,
                passed=restored.checksum == source.checksum,
            )
        )
    return checks


def data_age_seconds(
    now: datetime, restored: DatabaseProfile | None, point_taken_at: datetime | None
) -> float | None:
    """RPO as measured: now - newest committed transaction visible in the restore, else the point's time."""
    newest = restored.newest_commit_at if restored and restored.newest_commit_at else point_taken_at
    return round((now - newest).total_seconds(), 1) if newest else None
