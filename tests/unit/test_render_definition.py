"""DefinitionSubstitutions are filled completely, or the definition is refused."""

from __future__ import annotations

import json
import re

import pytest
from lifeboat.local.runtime import UnresolvedPlaceholder, render_definition
from lifeboat.local.template import load_template


def _backup_machine() -> tuple[str, dict[str, str]]:
    text, substitutions = load_template().state_machine("BackupStateMachine")
    return text, {name: f"arn:aws:example:us-east-1:123456789012:{name}" for name in substitutions}


def test_the_backup_machine_renders_with_no_placeholder_left() -> None:
    # GIVEN the real ASL and a value for every substitution template.yaml declares
    text, values = _backup_machine()
    # WHEN it is rendered
    rendered = render_definition(text, values)
    # THEN no ${...} is left and the result is still valid JSON with our ARNs in the tasks
    assert "${" not in rendered
    definition = json.loads(rendered)
    assert definition["States"]["Plan"]["Resource"] == values["PlanFunctionArn"]


def test_a_missing_substitution_is_named() -> None:
    # GIVEN the real ASL but no value for the failure topic
    text, values = _backup_machine()
    del values["FailureTopicArn"]
    # WHEN it is rendered THEN the error names the leftover placeholder
    with pytest.raises(UnresolvedPlaceholder, match=re.escape("unresolved placeholders: ${FailureTopicArn}")):
        render_definition(text, values)


def test_every_leftover_is_named_once_in_order() -> None:
    """GIVEN a definition with two unknown placeholders (one repeated) WHEN rendered THEN each is named once,
    sorted."""
    text = '{"a": "${Zeta}", "b": "${Alpha}", "c": "${Zeta}", "d": "${Known}"}'
    with pytest.raises(UnresolvedPlaceholder) as refused:
        render_definition(text, {"Known": "x"})
    assert str(refused.value) == "unresolved placeholders: ${Alpha}, ${Zeta}"


def test_unresolved_placeholder_is_a_value_error() -> None:
    """GIVEN UnresolvedPlaceholder THEN callers catching ValueError see it."""
    assert issubclass(UnresolvedPlaceholder, ValueError)
