"""The base of every model whose JSON is camelCase (Step Functions payloads, config documents)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Models whose JSON is camelCase (Step Functions payloads, config documents)."""

    # defer_build: a handler builds only the validators of the models it uses (cold start).
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )
