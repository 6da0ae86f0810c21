"""EBS in moto: a snapshot of an encrypted volume has no KMS key; give it the volume's, as AWS
does, so level-1 validation checks the real key."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_ec2"]


def _snapshot_keeps_volume_key(original: Any) -> Any:
    def create_snapshot(self: Any, volume_id: str, *args: Any, **kwargs: Any) -> Any:
        snapshot = original(self, volume_id, *args, **kwargs)
        if snapshot.encrypted and snapshot.kms_key_id is None:
            snapshot.kms_key_id = self.get_volume(volume_id).kms_key_id
        return snapshot

    return create_snapshot


def patch_ec2(stack: ExitStack) -> None:
    from moto.ec2.models.elastic_block_store import EBSBackend

    stack.enter_context(
        mock.patch.object(
            EBSBackend, "create_snapshot", _snapshot_keeps_volume_key(EBSBackend.create_snapshot)
        )
    )
