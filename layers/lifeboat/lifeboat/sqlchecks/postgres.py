"""Profile a PostgreSQL database: schema fingerprint, row counts, checksums, canary, freshness.

Every statement is read-only. Table and column names come from the validated config and are
quoted as identifiers; the canary and freshness queries are the operator's own SQL, run inside
the read-only session.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection, sql
from psycopg.errors import UndefinedTable

from lifeboat.domain.datachecks import DatabaseProfile, DataChecks, TableCheck, TableProfile

# Columns (with their order, types, nullability, defaults), constraints and indexes of every
# user schema: what a restore must reproduce exactly.
_SCHEMA_QUERIES = (
    """
    SELECT 'column', table_schema, table_name, ordinal_position::text, column_name, data_type,
           coalesce(character_maximum_length::text, ''), coalesce(numeric_precision::text, ''),
           is_nullable, coalesce(column_default, '')
    FROM information_schema.columns
    WHERE table_schema NOT IN ('information_schema') AND table_schema NOT LIKE 'pg\\_%'
    """,
    """
    SELECT 'constraint', n.nspname, c.relname, con.conname, con.contype::text,
           pg_get_constraintdef(con.oid), '', '', '', ''
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    """,
    """
    SELECT 'index', schemaname, tablename, indexname, indexdef, '', '', '', '', ''
    FROM pg_indexes
    WHERE schemaname NOT IN ('information_schema') AND schemaname NOT LIKE 'pg\\_%'
    """,
)


def _identifier(qualified: str) -> sql.Identifier:
    return sql.Identifier(*qualified.split("."))


def schema_fingerprint(conn: Connection[Any]) -> tuple[str, int]:
    """sha256 over the sorted catalog rows, and how many objects it covers."""
    rows: list[str] = []
    with conn.cursor() as cur:
        for query in _SCHEMA_QUERIES:
            cur.execute(query)
            rows += ["\t".join(str(v) for v in row) for row in cur.fetchall()]
    rows.sort()
    return hashlib.sha256("\n".join(rows).encode()).hexdigest(), len(rows)


def _table(conn: Connection[Any], check: TableCheck, bound: int | None) -> TableProfile:
    table, key = _identifier(check.name), sql.Identifier(check.key)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*), max({key}) FROM {table}").format(key=key, table=table))
            count, largest = cur.fetchone() or (0, None)
            up_to = bound if bound is not None else largest
            checksum = None
            if up_to is not None:
                # Order-independent and constant-memory: the sum of each row's md5 (first 60 bits),
                # over the rows at or below the bound, whose contents must not change.
                cur.execute(
                    sql.SQL(
                        "SELECT count(*), coalesce(sum("
                        "('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)"
                        " FROM {table} AS t WHERE {key} <= %s"
                    ).format(table=table, key=key),
                    (up_to,),
                )
                rows, total = cur.fetchone() or (0, 0)
                checksum = f"{rows}:{total}"
    except UndefinedTable:
        conn.rollback()
        return TableProfile(name=check.name, exists=False)
    return TableProfile(name=check.name, row_count=int(count), checksum_up_to=up_to, checksum=checksum)


def _scalar(conn: Connection[Any], query: str) -> Any:
    with conn.cursor() as cur:
        cur.execute(query.encode())
        row = cur.fetchone()
    return None if row is None else row[0]


def profile(conn: Connection[Any], checks: DataChecks, bounds: dict[str, int | None]) -> DatabaseProfile:
    """Everything the checks compare, read in one read-only session."""
    fingerprint, objects = schema_fingerprint(conn)
    tables = [_table(conn, check, bounds.get(check.name)) for check in checks.tables]
    canary = _scalar(conn, checks.canary.sql) if checks.canary else None
    newest = _scalar(conn, checks.freshness_sql) if checks.freshness_sql else None
    if isinstance(newest, datetime) and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return DatabaseProfile(
        captured_at=datetime.now(UTC),
        schema_fingerprint=fingerprint,
        schema_objects=objects,
        tables=tables,
        canary=None if canary is None else str(canary),
        newest_commit_at=newest if isinstance(newest, datetime) else None,
    )
