"""Assertions about what an agent learned, made against the table it started from (with the
shipped prior, a table of non-zero values, "anything non-zero" would hold without learning)."""

from __future__ import annotations

import numpy as np

from optuna_rl.core.agent import Agent


def assert_learned_from_the_study(agent: Agent, initial_q: np.ndarray) -> None:
    """The agent started from ``initial_q``; the entries the study visited moved away from it,
    and every other entry is as it started."""
    np.testing.assert_array_equal(agent.initial_q, initial_q)
    visited = agent.visits > 0
    assert visited.any(), "the study taught the agent nothing"
    assert np.any(agent.q[visited] != initial_q[visited])
    np.testing.assert_array_equal(agent.q[~visited], initial_q[~visited])
