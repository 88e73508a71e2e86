"""Tabular Q-learning over integer states and actions. Knows nothing of Optuna."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import NamedTuple

import numpy as np


AGENT_FORMAT_VERSION = 2
"""Version of :meth:`Agent.to_dict`'s layout (2: ``initial_q`` is a table, not a number)."""


TERMINAL = -1
"""``next_state`` of a transition that ends the episode: nothing follows it."""


class Transition(NamedTuple):
    """One step of experience: in ``state`` the agent took ``action``, was paid ``reward`` and
    arrived in ``next_state`` (:data:`TERMINAL` if the episode ended)."""

    state: int
    action: int
    reward: float
    next_state: int


class LinearSchedule:
    """A value that goes linearly from ``start`` to ``end`` over ``duration`` steps, then stays.

    Args:
        start: Value at step 0.
        end: Value from step ``duration`` on.
        duration: Number of steps of the ramp; 0 means ``end`` at once.
    """

    def __init__(self, start: float, end: float, duration: int) -> None:
        self.start = start
        self.end = end
        self.duration = duration

    def __call__(self, step: int) -> float:
        if step >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * step / self.duration

    def __repr__(self) -> str:
        return f"LinearSchedule(start={self.start}, end={self.end}, duration={self.duration})"


Undo = Callable[[], None]
"""Restores what one change did; undoing the changes in reverse order restores the start."""


class Agent:
    """A Q-table with the one-step Q-learning update and epsilon-greedy action selection.

    Args:
        n_states: Number of discrete states.
        n_actions: Number of discrete actions.
        learning_rate: Step size ``alpha`` of the update, in (0, 1]; :obj:`None` for the
            sample average ``1 / N(S, A)`` (Sutton & Barto, 2018, eq. 2.3), which makes each
            entry the mean of its targets and the result independent of their order for
            terminal transitions.
        discount: Discount factor ``gamma`` of future rewards, in [0, 1].
        initial_q: The table the agent starts from (``n_states x n_actions``), or one value
            for every entry.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        learning_rate: float | None,
        discount: float,
        initial_q: float | np.ndarray = 0.0,
    ) -> None:
        self.learning_rate = learning_rate
        self.discount = discount
        self.initial_q = np.array(
            np.broadcast_to(np.asarray(initial_q, dtype=np.float64), (n_states, n_actions))
        )
        self.initial_q.setflags(write=False)
        self.q = self.initial_q.copy()
        self.visits = np.zeros((n_states, n_actions), dtype=np.int64)

    @property
    def n_states(self) -> int:
        return int(self.q.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.q.shape[1])

    @property
    def n_updates(self) -> int:
        return int(self.visits.sum())

    def update(self, transition: Transition) -> Undo:
        """Q-learning (Sutton & Barto, 2018, eq. 6.8):
        ``Q(S, A) <- Q(S, A) + alpha [R + gamma max_a Q(S', a) - Q(S, A)]``,
        with ``max_a Q(S', a) = 0`` when ``S'`` is terminal.

        Returns:
            A function that restores the entry as it was before this update.
        """
        s, a, r, s_next = transition
        old_q, old_visits = float(self.q[s, a]), int(self.visits[s, a])
        future = 0.0 if s_next == TERMINAL else float(self.q[s_next].max())
        target = r + self.discount * future
        self.visits[s, a] += 1
        alpha = 1.0 / self.visits[s, a] if self.learning_rate is None else self.learning_rate
        self.q[s, a] += alpha * (target - self.q[s, a])

        def undo() -> None:
            self.q[s, a], self.visits[s, a] = old_q, old_visits

        return undo

    def greedy_actions(self, state: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Indices of the allowed actions of highest Q-value in ``state`` (ties all returned)."""
        values = self.q[state].copy()
        if allowed is not None:
            values[~allowed] = -np.inf
        return np.flatnonzero(values == values.max())

    def act(
        self,
        state: int,
        rng: np.random.Generator,
        epsilon: float,
        allowed: np.ndarray | None = None,
    ) -> tuple[int, bool]:
        """Epsilon-greedy choice among the allowed actions; ties between greedy actions are broken
        at random. Returns the action and whether it was an exploration step."""
        candidates = np.arange(self.n_actions) if allowed is None else np.flatnonzero(allowed)
        if candidates.size == 0:
            raise ValueError("No action is allowed.")
        if rng.random() < epsilon:
            return int(rng.choice(candidates)), True
        return int(rng.choice(self.greedy_actions(state, allowed))), False

    def copy(self) -> Agent:
        clone = Agent(
            self.n_states, self.n_actions, self.learning_rate, self.discount, self.initial_q
        )
        clone.q = self.q.copy()
        clone.visits = self.visits.copy()
        return clone

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot, with a format version."""
        return {
            "version": AGENT_FORMAT_VERSION,
            "learning_rate": self.learning_rate,
            "discount": self.discount,
            "initial_q": self.initial_q.tolist(),
            "q": self.q.tolist(),
            "visits": self.visits.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Agent:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on another format version."""
        if data.get("version") != AGENT_FORMAT_VERSION:
            raise ValueError(
                f"Unsupported agent format version {data.get('version')!r}; "
                f"expected {AGENT_FORMAT_VERSION}."
            )
        q = np.asarray(data["q"], dtype=np.float64)
        initial_q = np.asarray(data["initial_q"], dtype=np.float64)
        agent = cls(q.shape[0], q.shape[1], data["learning_rate"], data["discount"], initial_q)
        agent.q = q
        agent.visits = np.asarray(data["visits"], dtype=np.int64)
        return agent
