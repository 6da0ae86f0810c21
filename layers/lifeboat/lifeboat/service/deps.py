"""The collaborators a use case needs, built once per Lambda container from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Protocol

from lifeboat.aws.clients import ClientProvider, default_clients
from lifeboat.aws.config_source import ConfigSource
from lifeboat.domain.config import PolicyConfig
from lifeboat.errors import ConfigError
from lifeboat.state.store import StateStore

STATE_TABLE_ENV = "STATE_TABLE_NAME"


class ConfigReader(Protocol):
    """The policy config: cached (``()``) or as it is now (``fresh()``)."""

    def __call__(self) -> PolicyConfig: ...

    def fresh(self) -> PolicyConfig: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    region: str
    clients: ClientProvider
    store: StateStore
    config: ConfigReader
    now: Callable[[], datetime] = field(default=_utcnow)


def _region() -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("AWS_REGION is not set")
    return region


@cache
def deps_from_env() -> Deps:
    """One Deps per process: a warm Lambda container reuses clients and the config cache."""
    table = os.environ.get(STATE_TABLE_ENV)
    if not table:
        raise ConfigError(f"{STATE_TABLE_ENV} is not set")
    region = _region()
    return Deps(
        region=region,
        clients=default_clients,
        store=StateStore(table, default_clients("dynamodb", region)),
        config=ConfigSource(default_clients, region),
    )
