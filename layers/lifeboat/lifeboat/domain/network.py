"""Where a restored database lives (subnet group, security groups, parameter group)."""

from __future__ import annotations

from pydantic import Field

from lifeboat.domain.models import CamelModel


class RestoreNetwork(CamelModel):
    """Where a restored database lives; unset fields fall back to the source's (same region)."""

    subnet_group: str | None = None
    security_group_ids: list[str] = Field(default_factory=list)
    parameter_group: str | None = None
    availability_zone: str | None = None

    def over(self, defaults: RestoreNetwork) -> RestoreNetwork:
        """These settings, completed by ``defaults`` where unset."""
        return RestoreNetwork(
            subnet_group=self.subnet_group or defaults.subnet_group,
            security_group_ids=self.security_group_ids or defaults.security_group_ids,
            parameter_group=self.parameter_group or defaults.parameter_group,
            availability_zone=self.availability_zone or defaults.availability_zone,
        )
