"""Read template.yaml so local mode uses the deployed definitions, not copies of them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT_ENV = "LIFEBOAT_PROJECT_ROOT"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as {'Fn::X': value} dicts."""


def _tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def project_root() -> Path:
    """The checkout holding template.yaml: $LIFEBOAT_PROJECT_ROOT, the cwd, or above this file."""
    candidates = [os.environ.get(PROJECT_ROOT_ENV), Path.cwd(), *Path(__file__).resolve().parents]
    for candidate in candidates:
        if (
            candidate
            and (Path(candidate) / "template.yaml").is_file()
            and (Path(candidate) / "statemachines").is_dir()
        ):
            return Path(candidate)
    raise FileNotFoundError(
        f"template.yaml not found; run from the Lifeboat checkout or set {PROJECT_ROOT_ENV}"
    )


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    module: str
    attribute: str


class Template:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.body: dict[str, Any] = yaml.load((root / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
        self.resources: dict[str, dict[str, Any]] = self.body["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def functions(self) -> dict[str, FunctionSpec]:
        specs = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            module, attribute = props["Handler"].rsplit(".", 1)
            specs[logical_id] = FunctionSpec(logical_id, self.root / props["CodeUri"], module, attribute)
        return specs

    def state_machine(self, logical_id: str) -> tuple[str, dict[str, Any]]:
        """(ASL text, DefinitionSubstitutions) of one AWS::Serverless::StateMachine."""
        props = self.resources[logical_id]["Properties"]
        text = (self.root / props["DefinitionUri"]).read_text()
        return text, props.get("DefinitionSubstitutions", {})

    def table_properties(self, logical_id: str = "StateTable") -> dict[str, Any]:
        return dict(self.resources[logical_id]["Properties"])

    def schedule_rules(self) -> dict[str, dict[str, Any]]:
        return {
            k: v["Properties"]
            for k, v in self.of_type("AWS::Events::Rule").items()
            if "ScheduleExpression" in v["Properties"]
        }


@cache
def load_template(root: Path | None = None) -> Template:
    return Template(root or project_root())


def apply_input_transformer(transformer: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """EventBridge InputTransformer for the simple ``$.field`` paths our rules use."""
    template = transformer["InputTemplate"]
    for name, path in transformer.get("InputPathsMap", {}).items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        template = template.replace(f"<{name}>", str(value))
    return dict(json.loads(template))
