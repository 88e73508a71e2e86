"""The reward each result pays the action that produced it, and the progress summary the state
is binned from, advanced one result at a time.

Rewards are all in [-1, 1] and invariant under any shift and positive scaling of the objective
(they use ranks, never raw differences), so the same agent works for objectives from 1e-9 to
1e9, minimised or maximised:

- a new best (with several objectives: a result no earlier one dominates or equals) pays
  ``0.25 + 0.75 p``, where ``p`` is the fraction of the earlier improvements of
  the best value that this improvement exceeds in size (1 for the first). Paying for the size
  of an improvement by its rank, not only for success, keeps the agent from learning to take
  ever smaller steps, which succeed often but gain little;
- any other result pays ``-q``, where ``q`` is its rank quantile among the earlier results
  (:class:`~optuna_rl.core.ranking.Counts`): 0 for a near miss, -1 for the worst so far;
- a failed trial pays -1.
"""

from __future__ import annotations

from optuna_rl.core.agent import Undo
from optuna_rl.core.ranking import Counts
from optuna_rl.core.ranking import SortedMultiset
from optuna_rl.sampling.lead import GOOD_QUANTILE
from optuna_rl.sampling.lead import ModelLead
from optuna_rl.sampling.moves import SURROGATE
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.state import INITIAL_STEP_SIZE
from optuna_rl.sampling.state import Progress


FAILED_REWARD = -1.0
MIN_IMPROVEMENT_REWARD = 0.25
"""What the smallest improvement of the best value pays: still more than any other result."""
SUCCESS_REWARD = -GOOD_QUANTILE
"""A reward above this is a good result, as the model's lead counts them
(:data:`~optuna_rl.sampling.lead.GOOD_QUANTILE`): a new best, or a result fewer than a quarter
of the earlier ones beat. The agent's exploration draws on each move's share of them."""


def improvement_reward(gain: float, earlier_gains: SortedMultiset[float]) -> float:
    """The reward of a new best that improved by ``gain``, ranked among the earlier gains."""
    if not len(earlier_gains):
        return 1.0
    exceeded = earlier_gains.counts(gain).better / len(earlier_gains)
    return MIN_IMPROVEMENT_REWARD + (1.0 - MIN_IMPROVEMENT_REWARD) * exceeded


class ProgressTracker:
    """The progress summary of the results folded so far."""

    def __init__(self) -> None:
        self.progress = Progress(0, 0.0, INITIAL_STEP_SIZE)
        self.gains: SortedMultiset[float] = SortedMultiset()
        """Sizes of the improvements of the best so far (after the first result)."""
        self.lead = ModelLead()
        """The agent's recent results, the model-guided move's against the others'."""

    def advance(
        self, rank: Counts | None, gain: float | None, decision: Decision | None
    ) -> tuple[float, Undo]:
        """Fold one result in: its ``rank`` among the earlier results (``None`` if the trial
        failed), the size of its improvement if no earlier result was as good (``None``
        otherwise, and for the first result), and the decision that produced it (it carries
        the step size).

        Returns:
            The reward of the action that produced the result, and a function that undoes this.
        """
        reward, undo = self._advance(rank, gain, decision)
        if decision is None or not decision.by_agent:
            return reward, undo
        good = rank is not None and (reward > 0.0 or rank.quantile < GOOD_QUANTILE)
        undo_lead = self.lead.record(decision.action == SURROGATE, good)
        self.progress = self.progress._replace(model_ahead=self.lead.model_ahead)

        def undo_both() -> None:
            undo_lead()
            undo()

        return reward, undo_both

    def _advance(
        self, rank: Counts | None, gain: float | None, decision: Decision | None
    ) -> tuple[float, Undo]:
        old_progress = self.progress
        step_size = decision.step_size if decision is not None else self.progress.step_size
        if rank is None:
            self.progress = old_progress._replace(
                since_improvement=old_progress.since_improvement + 1,
                last_rank=1.0,
                step_size=step_size,
            )
            return FAILED_REWARD, self._undo(old_progress, None)
        improved = rank.n == 0 or (rank.better == 0 and rank.ties == 0)
        since = 0 if improved else self.progress.since_improvement + 1
        self.progress = old_progress._replace(
            since_improvement=since, last_rank=rank.quantile, step_size=step_size
        )
        if not improved:
            return -rank.quantile, self._undo(old_progress, None)
        if gain is None:
            return 1.0, self._undo(old_progress, None)
        reward = improvement_reward(gain, self.gains)
        self.gains.insert(gain)
        return reward, self._undo(old_progress, gain)

    def _undo(self, progress: Progress, gain: float | None) -> Undo:
        def undo() -> None:
            self.progress = progress
            if gain is not None:
                self.gains.remove(gain)

        return undo
