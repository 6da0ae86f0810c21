"""Opening a read-only connection to a database endpoint with credentials from Secrets Manager."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.datachecks import DataChecks
from lifeboat.errors import ConfigError, DatabaseUnreachable

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class Route:
    """Where to really connect for an endpoint: an SSH tunnel, a proxy, or local mode's PostgreSQL."""

    host: str
    port: int
    dbname: str
    sslmode: str


class EndpointRoutes:
    """Endpoint address -> Route. Empty on AWS: Lambda connects to the endpoint itself."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()

    def add(self, address: str, route: Route) -> None:
        with self._lock:
            self._routes[address] = route

    def remove(self, address: str) -> None:
        with self._lock:
            self._routes.pop(address, None)

    def get(self, address: str) -> Route | None:
        with self._lock:
            return self._routes.get(address)


ROUTES = EndpointRoutes()


def credentials(clients: ClientProvider, checks: DataChecks) -> Credentials:
    """The secret's username and password (the secret lives in the region its ARN names)."""
    region = ResourceRef.parse(checks.secret_arn).region
    with translated({}, f"reading secret {checks.secret_arn}"):
        value = clients("secretsmanager", region).get_secret_value(SecretId=checks.secret_arn)
    try:
        secret = json.loads(value["SecretString"])
        return Credentials(username=str(secret["username"]), password=str(secret.get("password", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"secret {checks.secret_arn} is not JSON with username and password: {exc!r}"
        ) from None


def connect(address: str, port: int, checks: DataChecks, login: Credentials) -> psycopg.Connection[Any]:
    """A read-only connection with a statement timeout; DatabaseUnreachable when it cannot open."""
    import psycopg

    route = ROUTES.get(address) or Route(
        host=address, port=port, dbname=checks.database, sslmode=checks.sslmode
    )
    try:
        connection = psycopg.connect(
            host=route.host,
            port=route.port,
            dbname=route.dbname,
            user=login.username,
            password=login.password,
            sslmode=route.sslmode,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="lifeboat-data-checks",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c default_transaction_read_only=on",
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {address}:{port}/{checks.database}: {exc}".strip()
        ) from None
    return connection
