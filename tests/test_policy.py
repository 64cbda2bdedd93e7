"""The policy table."""

from __future__ import annotations

import pytest
from flask_prodguard.policy import POLICY
from flask_prodguard.policy import Action
from flask_prodguard.policy import Condition
from flask_prodguard.policy import Strictness
from flask_prodguard.policy import action_for


def test_table_is_complete() -> None:
    """Every (condition, strictness) pair has exactly one action."""
    assert set(POLICY) == {(c, s) for c in Condition for s in Strictness}


@pytest.mark.parametrize("condition", list(Condition))
def test_off_ignores_everything(condition: Condition) -> None:
    """Strictness off does nothing at run time."""
    assert action_for(condition, Strictness.OFF) is Action.IGNORE


@pytest.mark.parametrize("condition", list(Condition))
def test_report_only_emits_events(condition: Condition) -> None:
    """Strictness report never changes anything."""
    assert action_for(condition, Strictness.REPORT) is Action.EVENT


@pytest.mark.parametrize(
    ("condition", "enforce", "strict"),
    [
        (Condition.DEBUG_MODE, Action.FIX, Action.REFUSE),
        (Condition.DEBUGGER, Action.FIX, Action.REFUSE),
        (Condition.DEBUG_PIN, Action.EVENT, Action.REFUSE),
        (Condition.DEV_SERVER, Action.EVENT, Action.REFUSE),
        (Condition.UNSAFE_FLAG, Action.FIX, Action.REFUSE),
        (Condition.DEBUGGER_PROBE, Action.FIX, Action.FIX),
    ],
)
def test_design_table(condition: Condition, enforce: Action, strict: Action) -> None:
    """enforce and strict act as the design's behaviour table says."""
    assert action_for(condition, Strictness.ENFORCE) is enforce
    assert action_for(condition, Strictness.STRICT) is strict
