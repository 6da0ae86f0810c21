"""The few places local mode adjusts moto, each for a stated reason, one module per service:
``engine`` (Step Functions' waits and retries, Lambda task clients, thread safety), ``rds``,
``rds_global`` (Aurora Global Database switchover and failover), ``rds_backups`` (automated
backups replicated to another region), ``rds_faults`` (a reboot with failover),
``map_files`` (a Distributed Map's items and results in S3), ``ec2``, ``dynamodb`` and
``elasticache`` (answers as AWS gives them where Lifeboat relies on
them). Each module's docstring says what it changes and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from lifeboat.local.moto_patches.dynamodb import patch_dynamodb
from lifeboat.local.moto_patches.ec2 import patch_ec2
from lifeboat.local.moto_patches.elasticache import patch_elasticache
from lifeboat.local.moto_patches.engine import patch_engine
from lifeboat.local.moto_patches.map_files import patch_map_files
from lifeboat.local.moto_patches.rds import AURORA_COPY_LIMIT, COPY_POLLS, patch_rds
from lifeboat.local.moto_patches.rds_backups import patch_rds_backups
from lifeboat.local.moto_patches.rds_faults import patch_rds_faults
from lifeboat.local.moto_patches.rds_global import patch_rds_global

__all__ = ["AURORA_COPY_LIMIT", "COPY_POLLS", "patched_moto"]


@contextmanager
def patched_moto(time_scale: float) -> Iterator[None]:
    """moto as local mode runs it, for the duration of the block; ``time_scale`` scales waits."""
    with ExitStack() as stack:
        patch_engine(stack, time_scale)
        patch_map_files(stack)
        patch_rds(stack)
        patch_rds_global(stack)
        patch_rds_backups(stack)
        patch_rds_faults(stack)
        patch_ec2(stack)
        patch_dynamodb(stack)
        patch_elasticache(stack)
        yield
