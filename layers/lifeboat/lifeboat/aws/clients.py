"""boto3 clients with adaptive retries, created once per (service, region) and shared."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on throttles, which matters for RDS's ~12
# requests/s per account and region.
RETRY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5)


class ClientProvider(Protocol):
    def __call__(self, service: str, region: str) -> Any: ...


class Clients:
    """A thread-safe cache of clients; plugins and stores receive one as ``ClientProvider``."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._cache:
                # The default session is used when none is given, so process-wide event hooks
                # (local mode's Lambda emulation, API call metering) see every call.
                factory: Any = self._session.client if self._session else boto3.client
                self._cache[key] = factory(service, region_name=region, config=RETRY_CONFIG)
            return self._cache[key]

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


default_clients = Clients()
