"""The status graph: PENDING -> RUNNING -> SUCCEEDED | PARTIAL | FAILED, never backwards."""

from __future__ import annotations

import itertools

import pytest
from lifeboat.domain.operations import OperationStatus, check_transition, previous_statuses
from lifeboat.errors import IllegalStatusTransition

P, R, S, F, PART = (
    OperationStatus.PENDING,
    OperationStatus.RUNNING,
    OperationStatus.SUCCEEDED,
    OperationStatus.FAILED,
    OperationStatus.PARTIAL,
)
ALLOWED = {(P, R), (P, F), (R, S), (R, F), (R, PART)}
FORBIDDEN = [
    (current, new)
    for current, new in itertools.product(OperationStatus, repeat=2)
    if current != new and (current, new) not in ALLOWED
]


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED))
def test_allowed_moves(current: OperationStatus, new: OperationStatus) -> None:
    # GIVEN an operation in `current` WHEN it moves to `new` THEN that is a real move
    assert check_transition(current, new) is True


@pytest.mark.parametrize(("current", "new"), FORBIDDEN)
def test_forbidden_moves_raise(current: OperationStatus, new: OperationStatus) -> None:
    # GIVEN an operation in `current` WHEN something tries to move it to `new`
    # THEN the move is refused, naming both statuses
    with pytest.raises(IllegalStatusTransition, match=f"cannot move from {current} to {new}"):
        check_transition(current, new)


@pytest.mark.parametrize("status", list(OperationStatus))
def test_repeating_a_status_is_a_no_op(status: OperationStatus) -> None:
    # GIVEN a retried step that records the status the operation already has THEN nothing moves
    assert check_transition(status, status) is False


def test_the_named_cases_of_the_brief() -> None:
    """GIVEN the transitions the brief names THEN forward moves pass and backward ones raise."""
    assert check_transition(P, R)
    assert check_transition(P, F)
    with pytest.raises(IllegalStatusTransition):
        check_transition(R, P)
    with pytest.raises(IllegalStatusTransition):
        check_transition(S, F)


def test_terminal_statuses_have_no_way_out() -> None:
    """GIVEN a SUCCEEDED, PARTIAL or FAILED operation WHEN any other status is written THEN it is refused."""
    assert {s for s in OperationStatus if s.terminal} == {S, F, PART}
    for terminal, new in itertools.product((S, F, PART), OperationStatus):
        if new != terminal:
            with pytest.raises(IllegalStatusTransition):
                check_transition(terminal, new)


def test_previous_statuses_are_the_inverse_of_the_graph() -> None:
    """GIVEN each status THEN the store's write condition accepts exactly the statuses it may follow."""
    # The store's conditional write accepts exactly these current statuses for each new one.
    assert previous_statuses(P) == frozenset()
    assert previous_statuses(R) == {P}
    assert previous_statuses(S) == {R}
    assert previous_statuses(F) == {P, R}
