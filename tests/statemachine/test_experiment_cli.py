"""``lifeboat experiment run NAME --local``: the demo fleet's experiments on the emulated account,
as an operator runs them (exit 0 only when the experiment PASSED)."""

from __future__ import annotations

from lifeboat.command import app
from typer.testing import CliRunner


def test_a_local_experiment_passes_and_says_what_moved() -> None:
    # WHEN the Aurora failover experiment runs locally
    result = CliRunner().invoke(app, ["experiment", "run", "ledger-failover", "--local"])
    # THEN it passed, the writer moved and came back, and the operation is named
    assert result.exit_code == 0, result.output
    assert "Outcome: PASSED" in result.output
    assert "writer moved ledger-aurora-1 -> ledger-aurora-2" in result.output
    assert "Rolled back: writer back to ledger-aurora-1" in result.output


def test_a_local_critical_experiment_without_approval_is_refused_and_exits_1() -> None:
    result = CliRunner().invoke(app, ["experiment", "run", "orders-critical", "--local"])
    assert result.exit_code == 1, result.output
    assert "Outcome: REFUSED" in result.output and "refused by local operator" in result.output
