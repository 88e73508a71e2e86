"""Tabular Q-learning over integer states and actions. Knows nothing of Optuna."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import NamedTuple

import numpy as np


AGENT_FORMAT_VERSION = 3
"""Version of :meth:`Agent.to_dict`'s layout (2: ``initial_q`` is a table, not a number; 3: the
latest outcomes of each action, for Thompson-sampled exploration)."""

OUTCOME_WINDOW = 10
"""The latest outcomes of each action that its Thompson draw is based on: a window, because an
action's chance of success falls as a study goes on, so old outcomes overstate it."""
OUTCOME_HORIZON = 50
"""Outcomes older than this many updates no longer count (sliding-window Thompson sampling,
Trovò et al., 2020): an action left untried for that long is drawn as if new, so that a move
that failed early in a study, when little was known, is tried again later."""


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
    """A Q-table with the one-step Q-learning update and epsilon-greedy action selection, whose
    exploration steps can be drawn by Thompson sampling on each action's latest outcomes.

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
        success_reward: Where given, an exploration step is not a uniform choice but a
            Thompson draw (Thompson, 1933; Russo et al., 2018): each allowed action's chance
            of success gets the posterior ``Beta(1 + s, 1 + f)`` from its latest
            :data:`OUTCOME_WINDOW` outcomes in any state within the latest
            :data:`OUTCOME_HORIZON` updates (a success is a reward above ``success_reward``),
            and the action of the largest draw is taken. An action never
            tried draws uniformly, so untried actions are tried and actions that keep failing
            fade out of the exploration. :obj:`None`: uniform exploration.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        learning_rate: float | None,
        discount: float,
        initial_q: float | np.ndarray = 0.0,
        success_reward: float | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.success_reward = success_reward
        self.discount = discount
        self.initial_q = np.array(
            np.broadcast_to(np.asarray(initial_q, dtype=np.float64), (n_states, n_actions))
        )
        self.initial_q.setflags(write=False)
        self.q = self.initial_q.copy()
        self.visits = np.zeros((n_states, n_actions), dtype=np.int64)
        self.outcomes: list[list[tuple[int, bool]]] = [[] for _ in range(n_actions)]
        """Per action, ``(update number, success)`` of each of its results so far, oldest first
        (kept only with ``success_reward``); update numbers count from 0."""
        self.n_outcomes = 0
        """Outcomes recorded so far, of every action."""

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

        With ``success_reward``, also records whether the action succeeded.

        Returns:
            A function that restores the agent as it was before this update.
        """
        undo_q = self.update_q(transition)
        undo_outcome = self.record_outcome(transition.action, transition.reward)

        def undo() -> None:
            undo_outcome()
            undo_q()

        return undo

    def update_q(self, transition: Transition) -> Undo:
        """The Q-learning update of :meth:`update` alone."""
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

    def record_outcome(self, action: int, reward: float) -> Undo:
        """Record whether ``action`` succeeded (its reward is above ``success_reward``), for
        the exploration draws; nothing without ``success_reward``."""
        if self.success_reward is None:
            return _nothing
        outcomes = self.outcomes[action]
        outcomes.append((self.n_outcomes, reward > self.success_reward))
        self.n_outcomes += 1

        def undo() -> None:
            outcomes.pop()
            self.n_outcomes -= 1

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
        at random; an exploration step is uniform or, with ``success_reward``, a Thompson draw.
        Returns the action and whether it was an exploration step."""
        candidates = np.arange(self.n_actions) if allowed is None else np.flatnonzero(allowed)
        if candidates.size == 0:
            raise ValueError("No action is allowed.")
        if rng.random() < epsilon:
            if self.success_reward is None:
                return int(rng.choice(candidates)), True
            return int(candidates[np.argmax(self._success_draws(candidates, rng))]), True
        return int(rng.choice(self.greedy_actions(state, allowed))), False

    def outcome_counts(self, action: int) -> tuple[int, int]:
        """Successes and failures among ``action``'s latest :data:`OUTCOME_WINDOW` outcomes
        within the latest :data:`OUTCOME_HORIZON` updates: what its Thompson draw uses."""
        latest = latest_outcomes(
            self.outcomes[action], self.n_outcomes, OUTCOME_WINDOW, OUTCOME_HORIZON
        )
        successes = sum(latest)
        return successes, len(latest) - successes

    def _success_draws(self, actions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        counts = np.array([self.outcome_counts(int(action)) for action in actions], dtype=float)
        return rng.beta(1.0 + counts[:, 0], 1.0 + counts[:, 1])

    def copy(self) -> Agent:
        clone = Agent(
            self.n_states,
            self.n_actions,
            self.learning_rate,
            self.discount,
            self.initial_q,
            self.success_reward,
        )
        clone.q = self.q.copy()
        clone.visits = self.visits.copy()
        clone.outcomes = [list(outcomes) for outcomes in self.outcomes]
        clone.n_outcomes = self.n_outcomes
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
            "success_reward": self.success_reward,
            "outcomes": [[[at, int(ok)] for at, ok in outcomes] for outcomes in self.outcomes],
            "n_outcomes": self.n_outcomes,
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
        agent = cls(
            q.shape[0],
            q.shape[1],
            data["learning_rate"],
            data["discount"],
            initial_q,
            data["success_reward"],
        )
        agent.q = q
        agent.visits = np.asarray(data["visits"], dtype=np.int64)
        agent.outcomes = [
            [(int(at), bool(ok)) for at, ok in outcomes] for outcomes in data["outcomes"]
        ]
        agent.n_outcomes = int(data["n_outcomes"])
        return agent


def latest_outcomes(
    outcomes: list[tuple[int, bool]], now: int, window: int, horizon: int
) -> list[bool]:
    """Of ``(number, success)`` pairs, oldest first, the successes of the latest ``window`` that
    are fewer than ``horizon`` numbers older than ``now`` (the next number to be given)."""
    oldest = now - horizon
    return [ok for at, ok in outcomes[-window:] if at >= oldest]


def _nothing() -> None:
    pass
