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

from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import Transition
from optuna_rl.core.agent import Undo
from optuna_rl.sampling.rankings import OrderRanking
from optuna_rl.sampling.rankings import Ranking
from optuna_rl.sampling.results import Result
from optuna_rl.sampling.rewards import ProgressTracker
from optuna_rl.sampling.state import Progress
from optuna_rl.sampling.state import state_index


class SearchLearner:
    """The agent, the ranking of the results and the progress summary.

    Args:
        agent: A fresh agent to train.
        ranking: How the study's results rank (:mod:`optuna_rl.sampling.rankings`); by default
            one objective.
    """

    def __init__(self, agent: Agent, ranking: Ranking | None = None) -> None:
        self.agent = agent
        self.ranking: Ranking = OrderRanking() if ranking is None else ranking
        self.tracker = ProgressTracker()

    @property
    def progress(self) -> Progress:
        """The summary of the results folded so far, with the step size of the newest decision
        among them."""
        return self.tracker.progress

    @property
    def n_results(self) -> int:
        """Number of results folded: completed trials and pruned ones."""
        return len(self.ranking)

    def state_of(self, progress: Progress) -> int:
        """The agent's state for a progress summary (the benchmarks' ablations replace it)."""
        return state_index(progress)

    def fold(self, result: Result) -> Undo:
        """Learn from one finished trial; returns a function that takes it back."""
        key = result.key
        rank = gain = None
        if key is not None:
            rank = self.ranking.counts(key)
            if 0 < rank.n and rank.better == 0 and rank.ties == 0:
                gain = self.ranking.gain(key)
        reward, undo_progress = self.tracker.advance(rank, gain, result.decision)
        undo: list[Undo] = [undo_progress]
        if key is not None:
            undo.append(self.ranking.insert(key, result.number))
        decision = result.decision
        if decision is not None and decision.by_agent:
            next_state = self.state_of(self.tracker.progress)
            undo.append(
                self.agent.update(Transition(decision.state, decision.action, reward, next_state))
            )

        def undo_all() -> None:
            for step in reversed(undo):
                step()

        return undo_all
