"""The sampler's learner: the agent and the history summary, folded from finished trials.

Each finished trial that carries a decision the agent took gives one transition: the state and
action it recorded when it was sampled, the reward of its result
(:mod:`optuna_rl.sampling.rewards`) ranked among the results folded before it, and the state of
the history right after it. Trials without such a decision (start-up trials, other samplers'
trials, enqueued trials) are history only: they move the ranks and the progress summary but
teach the agent nothing. :class:`~optuna_rl.core.fold.Fold` feeds the results in trial-number
order, so the learner is a function of the set of finished trials.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import Transition
from optuna_rl.core.agent import Undo
from optuna_rl.core.ranking import SortedMultiset
from optuna_rl.sampling.results import COMPLETED
from optuna_rl.sampling.results import RankKey
from optuna_rl.sampling.results import Result
from optuna_rl.sampling.rewards import ProgressTracker
from optuna_rl.sampling.state import Progress
from optuna_rl.sampling.state import state_index


class Ranked(NamedTuple):
    """A result in the ranking, best first by ``(key, number)``."""

    key: RankKey
    number: int


class SearchLearner:
    """The agent, the ranking of the results and the progress summary.

    Args:
        agent: A fresh agent to train.
    """

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.ranking: SortedMultiset[tuple[RankKey, float]] = SortedMultiset()
        self.tracker = ProgressTracker()
        self.n_completed = 0

    @property
    def progress(self) -> Progress:
        """The summary of the results folded so far, with the step size of the newest decision
        among them."""
        return self.tracker.progress

    @property
    def n_results(self) -> int:
        """Number of results folded: completed trials and pruned ones."""
        return len(self.ranking)

    def top(self, k: int) -> list[Ranked]:
        """The ``k`` best results, best first."""
        return [Ranked(key, int(number)) for key, number in self.ranking[:k]]

    def fold(self, result: Result) -> Undo:
        """Learn from one finished trial; returns a function that takes it back."""
        key = result.key
        rank = None if key is None else self.ranking.counts((key, -math.inf), (key, math.inf))
        reward, undo_progress = self.tracker.advance(key, rank, result.decision)
        undo: list[Undo] = [undo_progress]
        if key is not None:
            entry = (key, float(result.number))
            self.ranking.insert(entry)
            undo.append(lambda: self.ranking.remove(entry))
            if key.group == COMPLETED:
                self.n_completed += 1
                undo.append(self._uncount_completed)
        decision = result.decision
        if decision is not None and decision.by_agent:
            next_state = state_index(self.tracker.progress)
            undo.append(
                self.agent.update(Transition(decision.state, decision.action, reward, next_state))
            )

        def undo_all() -> None:
            for step in reversed(undo):
                step()

        return undo_all

    def _uncount_completed(self) -> None:
        self.n_completed -= 1
