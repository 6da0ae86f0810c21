"""Resource references parsed from ARNs."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

# An AWS region name (us-east-1, eu-central-2, us-gov-west-1): never a path or a free string.
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):(?P<kind>[A-Za-z0-9-]+)[:/](?P<name>[^\s]+)$"
)


# Longer than any ARN of a type Lifeboat protects (an RDS ARN is under 200 characters), and short
# enough for every state-table key that embeds one (DynamoDB keys stop at 2,048 bytes).
MAX_ARN_LENGTH = 1024


class ResourceRef(BaseModel):
    """A protected resource, identified by its ARN and split into the parts plugins need."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    arn: str
    partition: str
    service: str
    region: str
    account_id: str
    kind: str
    name: str

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: object) -> object:
        arn = data.get("arn") if isinstance(data, dict) else data
        if not isinstance(arn, str):
            raise ValueError("a resource is identified by its ARN string")
        if len(arn) > MAX_ARN_LENGTH:
            raise ValueError(f"an ARN of {len(arn)} characters: at most {MAX_ARN_LENGTH} are accepted")
        match = _ARN.match(arn)
        if not match:
            raise ValueError(
                f"malformed ARN {arn!r}: expected "
                "arn:<partition>:<service>:<region>:<12-digit account>:<type>:<name>"
            )
        return {"arn": arn, "account_id": match["account"], **match.groupdict()}

    @classmethod
    def parse(cls, arn: str) -> ResourceRef:
        return cls.model_validate({"arn": arn})

    def __str__(self) -> str:
        return self.arn


def checked_arn(arn: str) -> str:
    """``arn`` unchanged once it parses: payloads carry ARNs as strings but refuse malformed ones."""
    ResourceRef.parse(arn)
    return arn


# A payload field holding an ARN string, refused when it is malformed.
ResourceArn = Annotated[str, AfterValidator(checked_arn)]
