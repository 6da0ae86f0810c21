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
# The copy steps' calls (service/regions.py): a DR region that is down must fail a task well
# inside its function's timeout (worst_case_seconds), and then its breaker stops the others.
DR_REGION_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=60
)
# botocore's standard retry back-off: up to base ** (attempt - 1) seconds, at most 20 s.
_BACKOFF_BASE, _MAX_BACKOFF = 2, 20


def worst_case_seconds(config: Config) -> float:
    """The longest one call can take with ``config`` when every attempt times out: each attempt
    waits out its connect and read timeouts, with botocore's longest back-off between them."""
    settings: Any = config  # botocore's Config sets its options as attributes at run time
    retries = dict(settings.retries or {})
    attempts = int(retries.get("total_max_attempts") or retries.get("max_attempts", 4) + 1)
    per_attempt = float(settings.connect_timeout) + float(settings.read_timeout)
    backoff = sum(min(_MAX_BACKOFF, _BACKOFF_BASE ** (attempt - 1)) for attempt in range(1, attempts))
    return float(attempts * per_attempt + backoff)


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

    def fail_fast(self) -> FailFast:
        """This cache, handing out clients with the copy steps' tight retry budget."""
        return FailFast(self)

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


class FailFast:
    """A client provider for the copy steps: the same cache, with ``DR_REGION_CONFIG`` clients
    (a single-attempt client stays single-attempt)."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients

    def __call__(self, service: str, region: str) -> Any:
        return self._clients._client(service, region, DR_REGION_CONFIG)

    def single_attempt(self, service: str, region: str) -> Any:
        return self._clients.single_attempt(service, region)


def fail_fast(clients: ClientProvider) -> ClientProvider:
    """``clients`` with the copy steps' retry budget where it can give one (a test's provider
    is used as it is)."""
    maker = getattr(clients, "fail_fast", None)
    return maker() if maker is not None else clients


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
