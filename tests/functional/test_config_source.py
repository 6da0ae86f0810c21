"""The policy config comes from SSM (or a file), is checked, and is cached by a warm Lambda."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lifeboat.aws import config_source
from lifeboat.aws.clients import Clients
from lifeboat.aws.config_source import CONFIG_FILE_ENV, CONFIG_PARAMETER_ENV, ConfigSource
from lifeboat.errors import ConfigError, PolicyViolation

PARAMETER = "/lifeboat/test/config"
DEV_ONLY = {"policies": {"dev": {"environment": "dev"}}}
WITH_STAGING = {"policies": {"dev": {"environment": "dev"}, "staging": {"environment": "staging"}}}


class FakeClock:
    """Stands in for the ``time`` module inside config_source only (the cache reads monotonic())."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A clock we control, read by config_source's cache instead of the real one."""
    clock = FakeClock()
    monkeypatch.setattr(config_source, "time", clock)
    return clock


@pytest.fixture
def clients(moto_clients: Clients, monkeypatch: pytest.MonkeyPatch) -> Clients:
    monkeypatch.setenv(CONFIG_PARAMETER_ENV, PARAMETER)
    monkeypatch.delenv(CONFIG_FILE_ENV, raising=False)
    return moto_clients


def _put(clients: Clients, value: str | dict[str, Any]) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    clients("ssm", "us-east-1").put_parameter(Name=PARAMETER, Value=text, Type="String", Overwrite=True)


def test_the_config_is_read_from_the_ssm_parameter(clients: Clients) -> None:
    """GIVEN a config in the SSM parameter WHEN loaded THEN its policies are available."""
    _put(clients, WITH_STAGING)
    config = ConfigSource(clients, "us-east-1")()
    assert sorted(config.policies) == ["dev", "staging"]


def test_a_missing_parameter_is_a_config_error_naming_it(clients: Clients) -> None:
    # GIVEN no parameter at the configured name
    # WHEN the config is loaded THEN the error names the parameter
    with pytest.raises(ConfigError, match=f"config parameter {PARAMETER}: ParameterNotFound"):
        ConfigSource(clients, "us-east-1")()


def test_invalid_json_is_a_config_error_naming_the_parameter(clients: Clients) -> None:
    """GIVEN a parameter holding broken JSON WHEN loaded THEN ConfigError names the parameter."""
    _put(clients, '{"policies": {"dev": ')
    with pytest.raises(ConfigError, match=f"config ssm:{PARAMETER} is not valid JSON"):
        ConfigSource(clients, "us-east-1")()


def test_a_json_value_that_is_not_an_object_is_a_config_error(clients: Clients) -> None:
    """GIVEN a parameter holding a JSON list WHEN loaded THEN ConfigError says an object is expected."""
    _put(clients, '["dev"]')
    with pytest.raises(ConfigError, match="must be a JSON object"):
        ConfigSource(clients, "us-east-1")()


def test_a_config_breaking_the_environment_rules_is_refused(clients: Clients) -> None:
    """GIVEN a prod policy disabling backups in SSM WHEN loaded THEN the rule violation is raised."""
    _put(clients, {"policies": {"prod": {"environment": "prod", "enabled": False}}})
    with pytest.raises(PolicyViolation, match="backups cannot be disabled in prod"):
        ConfigSource(clients, "us-east-1")()


def test_no_location_configured_is_a_config_error(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN neither a parameter nor a file configured WHEN loaded THEN the error says what to set."""
    monkeypatch.delenv(CONFIG_PARAMETER_ENV)
    with pytest.raises(ConfigError, match=f"set {CONFIG_PARAMETER_ENV}"):
        ConfigSource(clients, "us-east-1")()


def test_a_warm_lambda_keeps_the_config_until_the_cache_expires(clients: Clients, clock: FakeClock) -> None:
    # GIVEN a loaded config, and a clock we control
    _put(clients, DEV_ONLY)
    source = ConfigSource(clients, "us-east-1")
    assert list(source().policies) == ["dev"]
    # WHEN the parameter changes and less than the cache period has passed
    _put(clients, WITH_STAGING)
    clock.now += config_source.CACHE_SECONDS - 1
    # THEN the cached config is still served
    assert list(source().policies) == ["dev"]
    # AND once the period is over, the new config is read
    clock.now += 2
    assert sorted(source().policies) == ["dev", "staging"]


def test_a_broken_update_is_not_cached_over_the_good_config(clients: Clients, clock: FakeClock) -> None:
    # GIVEN a good config that has expired from the cache, then a broken edit of the parameter
    _put(clients, DEV_ONLY)
    source = ConfigSource(clients, "us-east-1")
    source()
    _put(clients, "not json")
    clock.now += config_source.CACHE_SECONDS + 1
    # WHEN it is loaded THEN the error surfaces, and a fixed parameter is picked up at once
    with pytest.raises(ConfigError):
        source()
    _put(clients, WITH_STAGING)
    assert sorted(source().policies) == ["dev", "staging"]


def test_a_local_file_takes_precedence(
    clients: Clients, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GIVEN a config file configured WHEN loaded THEN the file's policies are used."""
    path = tmp_path / "lifeboat.json"
    path.write_text(json.dumps(WITH_STAGING))
    monkeypatch.setenv(CONFIG_FILE_ENV, str(path))
    assert sorted(ConfigSource(clients, "us-east-1")().policies) == ["dev", "staging"]
