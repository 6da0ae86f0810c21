"""An emulated account for the plugin tests: moto with local mode's adjustments, DR keys, and the
set-up every plugin test module shares (recovery points, restore specs, AWS's tag shapes).

The ``account`` fixture is made visible to the functional tests by ``conftest.py``; a module that
needs another account (``test_plugin_rds_instance.py``, ``test_handlers_with_events.py``) defines
its own ``account``, which takes precedence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from lifeboat.aws.clients import ClientProvider, Clients
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.policy import Tier
from lifeboat.domain.recovery import recovery_point_tags
from lifeboat.domain.restore import Purpose, RestoreSpec, restore_tags
from lifeboat.local.moto_patches import patched_moto
from lifeboat.plugins.base import ResourcePlugin
from moto import mock_aws

SOURCE = "us-east-1"
DR = "us-west-2"
ACCOUNT_ID = "123456789012"
SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ALL_PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}

Plugin = TypeVar("Plugin", bound=ResourcePlugin)


@dataclass
class Account:
    clients: Clients
    source_key: str
    dr_key: str


def new_key(clients: ClientProvider, region: str, description: str = "other") -> str:
    """A new customer managed KMS key in ``region``, by ARN."""
    return str(clients("kms", region).create_key(Description=description)["KeyMetadata"]["Arn"])


def emulated_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A fresh moto account with local mode's patches, a source key and a DR key."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", SOURCE)
    with mock_aws(), patched_moto(time_scale=1.0):
        clients = Clients()
        yield Account(clients, new_key(clients, SOURCE, "app data"), new_key(clients, DR, "DR copies"))


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """The plugin tests' emulated account (see :func:`emulated_account`)."""
    yield from emulated_account(monkeypatch)


# --- recovery points ------------------------------------------------------------------------
def point_for(arn: str) -> str:
    """The daily recovery point id of the resource ``arn`` at ``SCHEDULED_AT``."""
    return recovery_point_id(arn, Tier.DAILY, SCHEDULED_AT)


def tags_for(arn: str, point: str) -> dict[str, str]:
    """The tags Lifeboat puts on ``point``, a daily point of ``arn`` under the prod policy."""
    return recovery_point_tags(
        resource_arn=arn,
        recovery_point_id=point,
        tier=Tier.DAILY.value,
        policy="prod",
        scheduled_at=SCHEDULED_AT,
    )


def new_point(
    plugin_type: Callable[[Clients], Plugin], acct: Account, ref: ResourceRef
) -> tuple[Plugin, str]:
    """GIVEN helper: a plugin of ``plugin_type`` on the account, and the daily point it created of ``ref``."""
    plugin = plugin_type(acct.clients)
    point = point_for(ref.arn)
    plugin.create_recovery_point(ref, point, tags_for(ref.arn, point))
    return plugin, point


# --- restores -------------------------------------------------------------------------------
def restore_spec(
    target: str,
    operation_id: str,
    *,
    source_tags: dict[str, str],
    purpose: Purpose = Purpose.RESTORE,
    region: str = SOURCE,
    resource_arn: str = "arn",
    restored_from: str = "lb-point",
    network: RestoreNetwork | None = None,
    instance_class: str | None = None,
) -> RestoreSpec:
    """What the restore workflow asks a plugin for: a restore (not a drill) is deletion protected."""
    return RestoreSpec(
        target_id=target,
        region=region,
        deletion_protection=purpose is Purpose.RESTORE,
        network=network or RestoreNetwork(),
        instance_class=instance_class,
        tags=restore_tags(
            source_tags,
            resource_arn=resource_arn,
            restored_from=restored_from,
            operation_id=operation_id,
            purpose=purpose,
        ),
    )


# --- reading moto's state ---------------------------------------------------------------------
def tags_of(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` as a dict (written here, not taken from Lifeboat's own)."""
    return {t["Key"]: t["Value"] for t in tag_list or []}


def aws_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """A dict of tags in AWS's ``[{"Key": k, "Value": v}]`` shape, for a request."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def bucket_exists(clients: Clients, region: str, bucket: str) -> bool:
    return bucket in {b["Name"] for b in clients("s3", region).list_buckets()["Buckets"]}


def public_access_block(clients: Clients, region: str, bucket: str) -> dict[str, Any]:
    """The bucket's public access block configuration (compare with ``ALL_PUBLIC_ACCESS_BLOCKED``)."""
    block = clients("s3", region).get_public_access_block(Bucket=bucket)
    return dict(block["PublicAccessBlockConfiguration"])
