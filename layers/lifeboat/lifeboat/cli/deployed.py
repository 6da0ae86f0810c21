"""A deployed Lifeboat stack, as the CLI reaches it: its outputs and clients in its region."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.clients import Clients
from lifeboat.domain.arn import REGION_PATTERN
from lifeboat.errors import InvalidInput

_STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")


class StackNotFound(InvalidInput):
    """The stack named (``--stack``, ``--region``) is not deployed there."""


@dataclass
class DeployedStack:
    name: str
    region: str
    clients: Clients
    outputs: dict[str, str]
    parameters: dict[str, str]

    @classmethod
    def find(cls, name: str, region: str | None) -> DeployedStack:
        import boto3

        if not _STACK_NAME.fullmatch(name):
            raise InvalidInput(f"--stack {name[:80]!r}: a CloudFormation stack name is letters, digits and -")
        if region is not None and not re.fullmatch(REGION_PATTERN, region):
            raise InvalidInput(f"--region {region[:80]!r}: not an AWS region name such as us-east-1")
        region_name = region or boto3.Session().region_name or "us-east-1"
        clients = Clients(boto3.Session(region_name=region_name))
        try:
            described = clients("cloudformation", region_name).describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as exc:
            if "does not exist" not in str(exc.response.get("Error", {}).get("Message", "")):
                raise
            raise StackNotFound(
                f"no Lifeboat stack {name!r} in {region_name}: pass --stack and --region of the "
                "deployed stack (sam deploy prints both), or add --local"
            ) from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
        return cls(name=name, region=region_name, clients=clients, outputs=outputs, parameters=parameters)

    def client(self, service: str) -> Any:
        return self.clients(service, self.region)
