"""What the pruner caches of one study: the learner folded from the finished trials' curves in
trial-number order (:class:`~optuna_rl.core.fold.Fold`), rebuilt from the trials when missing."""

from __future__ import annotations

from collections.abc import Sequence
import math
import threading
from typing import TYPE_CHECKING

from optuna.trial import TrialState

from optuna_rl import _compat
from optuna_rl import _trials
from optuna_rl.core.fold import Fold
from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.learner import CurveRecord


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


class PrunerStudy:
    """The pruner's cache of one study.

    Args:
        learner: A fresh learner for the study.
        sign: 1.0 if the study minimises, -1.0 if it maximises.
    """

    def __init__(self, learner: CurveLearner, sign: float) -> None:
        self.lock = threading.Lock()
        self.sign = sign
        self.fold: Fold[FrozenTrial, CurveRecord, CurveLearner] = Fold(
            learner,
            is_finished=_trials.is_finished,
            make_record=self._record,
            identity=_compat.trial_id,
            origin=_trials.started,
        )

    @property
    def learner(self) -> CurveLearner:
        return self.fold.learner

    def continues(self, trials: Sequence[FrozenTrial]) -> bool:
        return self.fold.continues(trials)

    def sync(self, trials: Sequence[FrozenTrial]) -> None:
        """Take in the trials finished since the last call."""
        self.fold.sync(trials)

    def curve(self, trial: FrozenTrial) -> Curve:
        """The curve a trial has reported so far."""
        return Curve(trial.intermediate_values, self.sign)

    def _record(self, trial: FrozenTrial) -> CurveRecord:
        final = None
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            final = self.sign * trial.values[0]
            if math.isnan(final):
                final = None
        return CurveRecord(self.curve(trial), final)
