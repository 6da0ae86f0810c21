"""Fixtures shared by the unit, functional and state machine suites.

Nothing here is autouse: the template suite (tests/template) shares this conftest and must not
pay for moto.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

if TYPE_CHECKING:
    from lifeboat.aws.clients import Clients

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = PROJECT_ROOT / "events"

EventLoader = Callable[..., dict[str, Any]]


def _read_event(name: str, replacements: dict[str, str] | None = None) -> dict[str, Any]:
    """An events/*.json file, with literal strings replaced (e.g. example key ARNs by real ones)."""
    text = (EVENTS_DIR / name).read_text()
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    return dict(json.loads(text))


@pytest.fixture
def load_event() -> EventLoader:
    """``load_event("snapshot.json", {example_arn: real_arn})`` -> the event as a dict."""
    return _read_event


FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, set before moto starts, so no test can reach real AWS."""
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    """An empty emulated AWS account (moto) for the duration of one test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="module")
def _moto_for_module() -> Iterator[tuple[Any, Clients]]:
    """One moto mock and one set of clients per test module.

    Starting moto replaces boto3's default session, so clients made under a fresh mock reload
    every service model (a few hundred ms each): sharing them per module keeps the suite fast.
    """
    from lifeboat.aws.clients import Clients
    from moto import mock_aws

    environment = mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT)
    with environment, mock_aws() as moto:
        os.environ.pop("AWS_PROFILE", None)
        yield moto, Clients()


@pytest.fixture
def moto_clients(_moto_for_module: tuple[Any, Clients]) -> Clients:
    """An empty emulated AWS account for one test (moto's data is reset), with shared clients."""
    moto, clients = _moto_for_module
    moto.reset()
    return clients
