"""Local mode's data plane: a real PostgreSQL behind the emulated RDS instances.

moto keeps no data behind an RDS instance, so level-2 checks (real SQL against a restore) would
have nothing to read. This module follows the RDS calls of the running process the way RDS moves
data, on one PostgreSQL server (the ``pgserver`` wheel, no root or Docker needed):

- ``CreateDBInstance``: an empty database for the instance;
- ``CreateDBSnapshot``: ``pg_dump`` of the instance's database, kept as the snapshot's data;
- ``CopyDBSnapshot``: the dump copied to the target region under the copy's id;
- ``RestoreDBInstanceFromDBSnapshot``: a new database loaded from the snapshot's dump in that
  region; a dump that fails to load leaves the instance ``incompatible-restore``, as RDS does;
- ``RestoreDBInstanceToPointInTime``: the source's *current* data (moto keeps no history, so a
  local point-in-time restore cannot go back in time);
- ``DeleteDBInstance`` / ``DeleteDBSnapshot``: the database / dump removed.

Every instance's endpoint address is routed (``sqlchecks.connection.ROUTES``) to its database, so
the SQL checks run the same code as on AWS. Nothing here is imported outside local mode.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from lifeboat.sqlchecks.connection import ROUTES, Route

# Operations whose parameters the after-call hook needs.
_FOLLOWED = (
    "CreateDBInstance",
    "CreateDBInstanceReadReplica",
    "ModifyDBInstance",
    "CreateDBSnapshot",
    "CopyDBSnapshot",
    "RestoreDBInstanceFromDBSnapshot",
    "RestoreDBInstanceToPointInTime",
    "DeleteDBInstance",
    "DeleteDBSnapshot",
)
_PARAMS = "lifeboat_dataplane_params"
FAILED_RESTORE_STATUS = "incompatible-restore"


class DataPlaneError(RuntimeError):
    """A dump or load failed in a way RDS has no status for (local mode only)."""


class LocalDataPlane:
    """One PostgreSQL server; databases named per emulated account so tests never collide."""

    def __init__(self, pg_root: Path, account_id: str) -> None:
        self.pg_root = pg_root
        self.account_id = account_id
        self._token = uuid.uuid4().hex[:6]
        self._dumps = Path(tempfile.mkdtemp(prefix="lifeboat-dumps-"))
        self._databases: dict[tuple[str, str], str] = {}  # (region, instance id) -> database
        self._lock = threading.Lock()
        self._registered: list[tuple[str, Callable[..., None]]] = []

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        # Local mode only: the pgserver wheel ships PostgreSQL 16. Its import warns that
        # XDG_RUNTIME_DIR is unset (it then uses /tmp), which is what we want.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
            from pgserver.postgres_server import get_server

        self.pg_root.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pg_root / "pgdata", cleanup_mode="stop")
        self._bin = Path(POSTGRES_BIN_PATH)
        info = self._server.get_postmaster_info()
        self._host, self._port = str(info.socket_dir), int(info.port or 5432)
        events: Any = boto3._get_default_session().events
        for operation in _FOLLOWED:
            hooks: list[tuple[str, Callable[..., None]]] = [
                (f"before-parameter-build.rds.{operation}", self._remember_params),
                (f"after-call.rds.{operation}", self._after_call),
            ]
            for event, handler in hooks:
                events.register(event, handler)
                self._registered.append((event, handler))

    def stop(self) -> None:
        events: Any = boto3._get_default_session().events
        for event, handler in self._registered:
            events.unregister(event, handler)
        for database in list(self._databases.values()):
            self._drop(database)
        self._databases.clear()
        shutil.rmtree(self._dumps, ignore_errors=True)

    # --- what tests and the demo use ------------------------------------------------------------
    def run_sql(self, region: str, instance_id: str, statements: str) -> None:
        """Run SQL in an instance's database (seeding sample data, simulating writes)."""
        self._psql(self._database(region, instance_id), ["-c", statements])

    def query(self, region: str, instance_id: str, statement: str) -> str:
        return self._psql(self._database(region, instance_id), ["-At", "-c", statement]).strip()

    def dump_of(self, region: str, snapshot_id: str) -> Path:
        """The file holding a snapshot's data (tests corrupt it to prove the checks catch it)."""
        return self._dumps / region / f"{snapshot_id}.sql"

    def instances(self) -> list[tuple[str, str]]:
        """(region, instance id) of every instance that has a database here."""
        with self._lock:
            return sorted(self._databases)

    # --- the hooks -------------------------------------------------------------------------------
    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = dict(params)

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if http_response is None or http_response.status_code >= 300:
            return
        params, region = context.get(_PARAMS, {}), str(context["client_region"])
        name = model.name
        if name == "CreateDBInstance":
            self._create(region, params["DBInstanceIdentifier"], parsed["DBInstance"])
        elif name == "CreateDBSnapshot":
            self._dump(
                self._database(region, params["DBInstanceIdentifier"]),
                self.dump_of(region, params["DBSnapshotIdentifier"]),
            )
        elif name == "CopyDBSnapshot":
            source_region, source_id = _snapshot_location(params["SourceDBSnapshotIdentifier"], region)
            target = self.dump_of(region, params["TargetDBSnapshotIdentifier"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.dump_of(source_region, source_id), target)
        elif name == "RestoreDBInstanceFromDBSnapshot":
            instance = self._create(region, params["DBInstanceIdentifier"], parsed["DBInstance"])
            self._load(
                region,
                params["DBInstanceIdentifier"],
                instance,
                self.dump_of(region, params["DBSnapshotIdentifier"]),
            )
        elif name == "CreateDBInstanceReadReplica":
            # A replica starts as a copy of its source (replication itself is not emulated).
            source_region, source_id = _instance_location(params["SourceDBInstanceIdentifier"], region)
            dump = self._dumps / region / f"replica-{params['DBInstanceIdentifier']}.sql"
            self._dump(self._database(source_region, source_id), dump)
            instance = self._create(region, params["DBInstanceIdentifier"], parsed["DBInstance"])
            self._load(region, params["DBInstanceIdentifier"], instance, dump)
        elif name == "RestoreDBInstanceToPointInTime":
            source = (
                self._database(region, params["SourceDBInstanceIdentifier"])
                if "SourceDBInstanceIdentifier" in params
                else self._replicated_source(params["SourceDBInstanceAutomatedBackupsArn"], region)
            )
            dump = self._dumps / region / f"pitr-{params['TargetDBInstanceIdentifier']}.sql"
            self._dump(source, dump)
            instance = self._create(region, params["TargetDBInstanceIdentifier"], parsed["DBInstance"])
            self._load(region, params["TargetDBInstanceIdentifier"], instance, dump)
        elif name == "ModifyDBInstance" and params.get("NewDBInstanceIdentifier"):
            self._rename(region, params["DBInstanceIdentifier"], params["NewDBInstanceIdentifier"], parsed)
        elif name == "DeleteDBInstance":
            self._delete(region, params["DBInstanceIdentifier"], parsed["DBInstance"])
        elif name == "DeleteDBSnapshot":
            self.dump_of(region, params["DBSnapshotIdentifier"]).unlink(missing_ok=True)

    # --- databases -------------------------------------------------------------------------------
    def _replicated_source(self, backups_arn: str, region: str) -> str:
        """The database of the instance whose automated backups local mode replicated to ``region``
        (its automated-backups ARN ends ``ab-lifeboat-<instance>``: moto_patches/rds_backups.py)."""
        instance_id = backups_arn.rsplit("ab-lifeboat-", 1)[-1]
        with self._lock:
            found = [db for (r, i), db in self._databases.items() if i == instance_id and r != region]
        if not found:
            raise DataPlaneError(f"no local database behind the automated backups {backups_arn}")
        return found[0]

    def _database(self, region: str, instance_id: str) -> str:
        try:
            return self._databases[(region, instance_id)]
        except KeyError:
            raise DataPlaneError(f"no local database behind {instance_id} in {region}") from None

    def _create(self, region: str, instance_id: str, described: dict[str, Any]) -> str:
        base = key = f"{self._token}.{region}.{instance_id}"
        with self._lock:  # a renamed instance keeps its database: a new one of its old name gets another
            taken = set(self._databases.values())
        suffix = 0
        while key in taken:
            suffix += 1
            key = f"{base}.{suffix}"
        database = key if len(key) <= 63 else f"{key[:50]}.{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        self._psql("postgres", ["-c", f'CREATE DATABASE "{database}"'])
        with self._lock:
            self._databases[(region, instance_id)] = database
        endpoint = described.get("Endpoint") or {}
        if endpoint.get("Address"):
            ROUTES.add(
                endpoint["Address"],
                Route(host=self._host, port=self._port, dbname=database, sslmode="disable"),
            )
        return database

    def _rename(self, region: str, old: str, new: str, parsed: dict[str, Any]) -> None:
        """The database follows its instance to the new identifier (a failback keeps the stale
        old primary under a new name)."""
        with self._lock:
            database = self._databases.pop((region, old), None)
            if database is not None:
                self._databases[(region, new)] = database
        address = ((parsed.get("DBInstance") or {}).get("Endpoint") or {}).get("Address")
        if database is not None and address:
            ROUTES.add(address, Route(host=self._host, port=self._port, dbname=database, sslmode="disable"))

    def _delete(self, region: str, instance_id: str, described: dict[str, Any]) -> None:
        with self._lock:
            database = self._databases.pop((region, instance_id), None)
        if database:
            self._drop(database)
        address = (described.get("Endpoint") or {}).get("Address")
        if address:
            ROUTES.remove(address)

    def _drop(self, database: str) -> None:
        self._psql("postgres", ["-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])

    def _dump(self, database: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._run("pg_dump", ["--no-owner", "--no-privileges", "--file", str(path), self._uri(database)])

    def _load(self, region: str, instance_id: str, database: str, dump: Path) -> None:
        """Load a dump; if it does not load, the instance is ``incompatible-restore`` (as on RDS)."""
        try:
            self._psql(database, ["-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", str(dump)])
        except DataPlaneError:
            _set_status(self.account_id, region, instance_id, FAILED_RESTORE_STATUS)

    def _uri(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self._host}&port={self._port}"

    def _psql(self, database: str, args: list[str]) -> str:
        return self._run("psql", ["--quiet", "--no-psqlrc", "--dbname", self._uri(database), *args])

    def _run(self, program: str, args: list[str]) -> str:
        # The program is one of pgserver's own PostgreSQL binaries; arguments are ours.
        done = subprocess.run(  # noqa: S603
            [str(self._bin / program), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise DataPlaneError(f"{program} failed ({done.returncode}): {done.stderr.strip()[:500]}")
        return done.stdout


def _instance_location(source: str, default_region: str) -> tuple[str, str]:
    """(region, identifier) of a replica's source: an ARN across regions, an identifier in one."""
    if source.startswith("arn:"):
        parts = source.split(":")
        return parts[3], parts[-1]
    return default_region, source


def _snapshot_location(source: str, default_region: str) -> tuple[str, str]:
    """``arn:aws:rds:<region>:<acct>:snapshot:<id>`` or a bare id (same region)."""
    match = re.match(r"^arn:[^:]+:rds:([^:]+):\d+:snapshot:(.+)$", source)
    return (match[1], match[2]) if match else (default_region, source)


def _set_status(account_id: str, region: str, instance_id: str, status: str) -> None:
    from moto.rds.models import rds_backends

    rds_backends[account_id][region].databases[instance_id].status = status
