"""A deployed Lifeboat stack, as the CLI reaches it: its outputs and clients in its region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifeboat.aws.clients import Clients


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

        region_name = region or boto3.Session().region_name or "us-east-1"
        clients = Clients(boto3.Session(region_name=region_name))
        described = clients("cloudformation", region_name).describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
        return cls(name=name, region=region_name, clients=clients, outputs=outputs, parameters=parameters)

    def client(self, service: str) -> Any:
        return self.clients(service, self.region)
