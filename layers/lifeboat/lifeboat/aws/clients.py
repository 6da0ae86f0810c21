"""boto3 clients with adaptive retries, created once per (service, region) and shared."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on throttles, which matters for RDS's ~12
# requests/s per account and region.
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5)
# For a mutation AWS cannot make idempotent (no name, no client token): botocore sends it once.
SINGLE_ATTEMPT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5)


class ClientProvider(Protocol):
    def __call__(self, service: str, region: str) -> Any: ...


class Clients:
    """A thread-safe cache of clients; plugins and stores receive one as ``ClientProvider``."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session
        self._cache: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        return self._client(service, region, RETRY_CONFIG)

    def single_attempt(self, service: str, region: str) -> Any:
        """A client whose calls botocore never resends (see ``mutation_client``)."""
        return self._client(service, region, SINGLE_ATTEMPT_CONFIG)

    def _client(self, service: str, region: str, config: Config) -> Any:
        key = (service, region, id(config))
        with self._lock:
            if key not in self._cache:
                # The default session is used when none is given, so process-wide event hooks
                # (local mode's Lambda emulation, API call metering) see every call.
                factory: Any = self._session.client if self._session else boto3.client
                self._cache[key] = factory(service, region_name=region, config=config)
            return self._cache[key]

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


default_clients = Clients()


def mutation_client(clients: ClientProvider, service: str, region: str) -> Any:
    """The client for a mutating call AWS cannot make idempotent (EBS CreateSnapshot and
    CopySnapshot, DynamoDB CreateBackup take neither a name nor a client token).

    botocore resends a call whose response was lost; for these calls that makes a second
    snapshot. Sent once, a lost response surfaces as TransientAwsError, and the caller looks for
    the call's result before anything sends it again. A provider without single-attempt clients
    (a test's) gives its ordinary client.
    """
    single = getattr(clients, "single_attempt", None)
    return single(service, region) if single is not None else clients(service, region)
