"""The faults of failover experiments in moto, answered as AWS does.

moto 5.2.5's ``RebootDBInstance`` ignores ``ForceFailover``: on AWS a Multi-AZ instance's standby
becomes the primary (``AvailabilityZone`` and ``SecondaryAvailabilityZone`` trade places) and a
single-AZ instance refuses the request. Both are done here; AWS takes a minute or two, moto is
instant. moto's ``FailoverDBCluster`` already moves an Aurora writer.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_rds_faults"]


def _reboot(original: Any) -> Any:
    def reboot_db_instance(self: Any) -> Any:
        from moto.rds.exceptions import InvalidParameterCombination

        if str(self.params.get("ForceFailover", "false")).lower() != "true":
            return original(self)
        instance = self.backend.describe_db_instances(self.params.get("DBInstanceIdentifier"))[0]
        if not instance.multi_az:
            raise InvalidParameterCombination("Cannot reboot with failover: the instance is not Multi-AZ.")
        primary = instance.availability_zone or f"{self.region}a"
        standby = getattr(instance, "secondary_availability_zone", None) or (
            f"{self.region}b" if not primary.endswith("b") else f"{self.region}a"
        )
        instance.availability_zone, instance.secondary_availability_zone = standby, primary
        return original(self)

    return reboot_db_instance


def patch_rds_faults(stack: ExitStack) -> None:
    from moto.rds.responses import RDSResponse

    stack.enter_context(
        mock.patch.object(RDSResponse, "reboot_db_instance", _reboot(RDSResponse.reboot_db_instance))
    )
