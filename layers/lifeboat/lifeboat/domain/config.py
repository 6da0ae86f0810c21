"""The policy configuration document (an SSM parameter on AWS, a file locally)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt, ValidationError, model_validator

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.datachecks import DataChecks
from lifeboat.domain.experiments import ExperimentSpec
from lifeboat.domain.failover import FailoverPlanSpec
from lifeboat.domain.models import CamelModel
from lifeboat.domain.policy import Policy, policy_violations
from lifeboat.domain.snapshot_budget import DEFAULT_MANUAL_SNAPSHOT_QUOTA, QUOTA_RESERVE, quota_violations
from lifeboat.errors import ConfigError, InvalidInput, PolicyViolation

DEFAULT_TAG_KEY = "lifeboat:policy"


class ListedResource(CamelModel):
    """A resource protected by listing it in the config rather than tagging it."""

    arn: str
    policy: str

    @model_validator(mode="after")
    def _valid_arn(self) -> ListedResource:
        ResourceRef.parse(self.arn)
        return self


class PolicyConfig(CamelModel):
    tag_key: str = DEFAULT_TAG_KEY
    policies: dict[str, Policy]
    resources: list[ListedResource] = Field(default_factory=list)
    # Level-2 (SQL) checks of restores and drills, per database ARN.
    data_checks: dict[str, DataChecks] = Field(default_factory=dict)
    # The account's RDS manual snapshot quota per region (Service Quotas; 100 unless raised):
    # no policy may keep more than this for a single resource.
    manual_snapshot_quota: int = Field(default=DEFAULT_MANUAL_SNAPSHOT_QUOTA, gt=QUOTA_RESERVE)
    # Concurrent cross-region copies per destination region, by resource type, where the
    # account's quota was raised (AWS's defaults otherwise: 20 RDS instance, 5 Aurora cluster).
    copy_quotas: dict[str, PositiveInt] = Field(default_factory=dict)
    # Resources a backup run works on at once: snapshots start together; copies wait at the
    # copy gate, so this never pushes copies past AWS's quota (Distributed Map allows 10,000).
    backup_concurrency: int = Field(default=1000, ge=1, le=10_000)
    # Regional failover: which resources move together and the DNS records that follow them.
    failover_plans: dict[str, FailoverPlanSpec] = Field(default_factory=dict)
    # Failover experiments (``lifeboat experiment run NAME``): a fault under safety controls.
    experiments: dict[str, ExperimentSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _name_policies(cls, data: Any) -> Any:
        """Policies are keyed by name in the document; the key is the policy's name."""
        if isinstance(data, dict) and isinstance(data.get("policies"), dict):
            data = dict(data)
            data["policies"] = {
                name: {"name": name, **body} if isinstance(body, dict) else body
                for name, body in data["policies"].items()
            }
        return data

    @model_validator(mode="after")
    def _known_policies(self) -> PolicyConfig:
        unknown = sorted({r.policy for r in self.resources} - set(self.policies))
        if unknown:
            raise ValueError(f"resources name unknown policies: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _data_check_arns(self) -> PolicyConfig:
        for arn in self.data_checks:
            ResourceRef.parse(arn)
        return self

    def failover_plan(self, name: str | None) -> tuple[str, FailoverPlanSpec]:
        """The named plan, or the only one when no name is given."""
        if name is None:
            if len(self.failover_plans) == 1:
                return next(iter(self.failover_plans.items()))
            known = ", ".join(sorted(self.failover_plans)) or "none (add failoverPlans to the config)"
            raise InvalidInput(f"plan: name the failover plan to run; known plans: {known}")
        try:
            return name, self.failover_plans[name]
        except KeyError:
            known = ", ".join(sorted(self.failover_plans)) or "none (add failoverPlans to the config)"
            raise InvalidInput(
                f"plan: no failover plan {name!r} in the config; known plans: {known}"
            ) from None

    def experiment(self, name: str) -> ExperimentSpec:
        try:
            return self.experiments[name]
        except KeyError:
            known = ", ".join(sorted(self.experiments)) or "none (add experiments to the config)"
            raise InvalidInput(f"experiment: no experiment {name!r} in the config; known: {known}") from None

    def policy(self, name: str) -> Policy:
        try:
            return self.policies[name]
        except KeyError:
            raise ConfigError(
                f"policy {name!r} is not defined; known policies: {', '.join(sorted(self.policies))}"
            ) from None


def parse_config(document: dict[str, Any]) -> PolicyConfig:
    """Parse and check a config document; every problem is reported at once, with its place."""
    try:
        config = PolicyConfig.model_validate(document)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '<document>'}: {err['msg']}" for err in exc.errors()
        ]
        raise ConfigError("invalid Lifeboat config:\n  " + "\n  ".join(lines)) from None
    problems = [p for policy in config.policies.values() for p in policy_violations(policy)]
    problems += [
        p
        for policy in config.policies.values()
        for p in quota_violations(policy, config.manual_snapshot_quota)
    ]
    if problems:
        raise PolicyViolation("policy rules broken:\n  " + "\n  ".join(problems))
    return config
