"""Which is doing better lately: the model-guided move or the other moves.

The state's third feature. In exploratory runs on the synthetic training corpus, the move that
improves the best value most often is the model-guided one while its latest results have been
good at least as often as the other moves' latest ones, and a coordinate or differential step
once they have not (``benchmarks/results/experiment4/move_outcomes_lead.txt``); within a study
this flips as the model's fit to the objective improves or breaks down.
"""

from __future__ import annotations

from optuna_rl.core.agent import Undo


GOOD_QUANTILE = 0.25
"""A result is good when it improves the best value or fewer than a quarter of the earlier
results beat it; a failed trial never is."""
WINDOW = 10
"""The latest results of each kind of move that are compared."""
MIN_RESULTS = 3
"""Results each kind needs before the comparison counts; until then the model is ahead."""


class ModelLead:
    """The agent's recent results, split into the model-guided move's and the other moves'."""

    def __init__(self) -> None:
        self._good: tuple[list[bool], list[bool]] = ([], [])

    @property
    def model_ahead(self) -> bool:
        """Whether the model-guided move's latest :data:`WINDOW` results were good at least as
        often as the other moves' latest ones (True until each has :data:`MIN_RESULTS`)."""
        model, other = self._good
        if len(model) < MIN_RESULTS or len(other) < MIN_RESULTS:
            return True
        return _rate(model[-WINDOW:]) >= _rate(other[-WINDOW:])

    def record(self, by_model: bool, good: bool) -> Undo:
        """Add one result of the agent's; returns a function that takes it back."""
        results = self._good[0 if by_model else 1]
        results.append(good)

        def undo() -> None:
            results.pop()

        return undo


def _rate(results: list[bool]) -> float:
    return sum(results) / len(results)
