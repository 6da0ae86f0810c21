"""Where the policy config document comes from: an SSM parameter on AWS, or a local file."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.domain.config import PolicyConfig, parse_config
from lifeboat.errors import ConfigError

CONFIG_PARAMETER_ENV = "LIFEBOAT_CONFIG_PARAMETER"
CONFIG_FILE_ENV = "LIFEBOAT_CONFIG_FILE"
CACHE_SECONDS = 300.0


class ConfigSource:
    """Loads and caches the config for ``CACHE_SECONDS``: a warm Lambda reads SSM rarely."""

    def __init__(self, clients: ClientProvider, region: str) -> None:
        self._clients = clients
        self._region = region
        self._lock = threading.Lock()
        self._cached: tuple[float, PolicyConfig] | None = None

    def __call__(self) -> PolicyConfig:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            config = parse_config(self._read())
            self._cached = (time.monotonic(), config)
            return config

    def fresh(self) -> PolicyConfig:
        """The config as it is now, not as cached: for a decision that must see a change made a
        moment ago (cleanup re-reads ``forceRetain`` right before it deletes)."""
        with self._lock:
            self._cached = None
        return self()

    def _read(self) -> dict[str, object]:
        path, parameter = os.environ.get(CONFIG_FILE_ENV), os.environ.get(CONFIG_PARAMETER_ENV)
        if path:
            text, origin = Path(path).read_text(), path
        elif parameter:
            with translated({"ParameterNotFound": ConfigError}, f"config parameter {parameter}"):
                found = self._clients("ssm", self._region).get_parameter(Name=parameter)
            text, origin = found["Parameter"]["Value"], f"ssm:{parameter}"
        else:
            raise ConfigError(f"set {CONFIG_PARAMETER_ENV} (SSM parameter) or {CONFIG_FILE_ENV}")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config {origin} is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise ConfigError(f"config {origin} must be a JSON object")
        return document
