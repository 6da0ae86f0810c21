"""An emulated account for the plugin tests: moto with local mode's adjustments, DR keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from lifeboat.aws.clients import Clients
from lifeboat.domain.policy import Tier
from lifeboat.domain.recovery import recovery_point_tags
from lifeboat.local.moto_patches import patched_moto
from moto import mock_aws

SOURCE = "us-east-1"
DR = "us-west-2"
SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@dataclass
class Account:
    clients: Clients
    source_key: str
    dr_key: str


def tags_for(arn: str, point: str) -> dict[str, str]:
    return recovery_point_tags(
        resource_arn=arn,
        recovery_point_id=point,
        tier=Tier.DAILY.value,
        policy="prod",
        scheduled_at=SCHEDULED_AT,
    )


def emulated_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """Body of each plugin test module's ``account`` fixture."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", SOURCE)
    with mock_aws(), patched_moto(time_scale=1.0):
        clients = Clients()
        source_key = clients("kms", SOURCE).create_key(Description="app data")["KeyMetadata"]["Arn"]
        dr_key = clients("kms", DR).create_key(Description="DR copies")["KeyMetadata"]["Arn"]
        yield Account(clients, source_key, dr_key)
