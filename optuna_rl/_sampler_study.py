"""What the sampler caches of one study, all of it rebuilt from the trials when missing.

- the learner (:class:`~optuna_rl.sampling.learner.SearchLearner`) folded from the finished
  trials in number order (:class:`~optuna_rl.core.fold.Fold`);
- the intersection search space of the finished trials (completed and pruned), as Optuna's
  ``IntersectionSearchSpace(include_pruned=True)`` computes it, but per study and from the
  trials the sampler has already read;
- the completed trials encoded in the current search space (encoding is the costly part of
  reading them), for the model-guided move and the repeat check.

Each finished trial is read once, when it is first seen finished.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
import threading
from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl import _trials
from optuna_rl.core.agent import Agent
from optuna_rl.core.fold import Fold
from optuna_rl.sampling.design import SobolDesign
from optuna_rl.sampling.learner import SearchLearner
from optuna_rl.sampling.observations import Observations
from optuna_rl.sampling.observations import ScoredObservations
from optuna_rl.sampling.rankings import Key
from optuna_rl.sampling.rankings import OrderRanking
from optuna_rl.sampling.rankings import ParetoRanking
from optuna_rl.sampling.results import COMPLETED
from optuna_rl.sampling.results import INFEASIBLE
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.results import RankKey
from optuna_rl.sampling.results import Result


if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

    from optuna_rl._search_space import SearchSpace
    from optuna_rl.sampling.space import Point


class SamplerStudy:
    """The sampler's cache of one study.

    Args:
        agent: A fresh agent for the study.
        signs: For each objective, 1.0 if the study minimises it, -1.0 if it maximises it.
        design: The start-up design of the study.
    """

    def __init__(self, agent: Agent, signs: Sequence[float], design: SobolDesign) -> None:
        self.lock = threading.RLock()
        self.signs = tuple(signs)
        self.design = design
        ranking = OrderRanking() if len(self.signs) == 1 else ParetoRanking(len(self.signs))
        self.fold: Fold[FrozenTrial, Result, SearchLearner] = Fold(
            SearchLearner(agent, ranking),
            is_finished=_trials.is_finished,
            make_record=self._result,
            identity=_compat.trial_id,
            origin=_trials.started,
        )
        self.intersection: dict[str, BaseDistribution] | None = None
        self._params: dict[int, dict[str, Any]] = {}
        self._completed: list[tuple[int, Key, bool]] = []
        """``(number, key, finite)`` of every completed trial, feasible or not."""
        self._newest_decision: tuple[int, Decision] | None = None
        self._space_key = ""
        self._points: dict[int, Point | None] = {}
        self._observations = Observations(np.zeros(0, dtype=np.int64))
        self._n_observed = 0
        self._warned_invalid = False

    @property
    def learner(self) -> SearchLearner:
        return self.fold.learner

    def continues(self, trials: Sequence[FrozenTrial]) -> bool:
        return self.fold.continues(trials)

    def sync(self, trials: Sequence[FrozenTrial]) -> None:
        """Take in the trials finished since the last call."""
        self.fold.sync(trials)

    def newest_step_size(self, trials: Sequence[FrozenTrial]) -> float:
        """The step size of the newest decision (highest trial number), running trials'
        included; the progress summary's if no trial has one."""
        newest = self._newest_decision
        for position in self._pending(trials):
            decision = _trials.recorded_decision(trials[position])
            if decision is not None and (newest is None or trials[position].number > newest[0]):
                newest = (trials[position].number, decision)
        return self.learner.progress.step_size if newest is None else newest[1].step_size

    def pending_points(
        self, space: SearchSpace, trials: Sequence[FrozenTrial], own_number: int
    ) -> list[Point]:
        """Points of the other running trials that have every parameter of ``space``."""
        points = []
        for position in self._pending(trials):
            trial = trials[position]
            if trial.state == TrialState.RUNNING and trial.number != own_number:
                point = space.encode_if_contained(trial.params)
                if point is not None:
                    points.append(point)
        return points

    def elites(
        self, space: SearchSpace, n_top: int, weights: np.ndarray | None
    ) -> list[tuple[int, Point]]:
        """``(number, point)`` of the ``n_top`` best results that have every parameter of
        ``space``, best first (along ``weights`` with several objectives)."""
        self._use_space(space)
        return [
            (number, point)
            for number in self.learner.ranking.top(n_top, weights)
            if (point := self._point(space, number)) is not None
        ]

    def observations(self, space: SearchSpace, weights: np.ndarray | None) -> ScoredObservations:
        """The completed trials encoded in ``space``, up to date, scored as the ranking orders
        them (along ``weights`` with several objectives)."""
        self._use_space(space)
        for number, key, finite in self._completed[self._n_observed :]:
            point = self._point(space, number)
            if point is not None:
                self._observations.add(number, point, key, finite)
        self._n_observed = len(self._completed)
        ranking = self.learner.ranking
        return self._observations.scored(lambda keys: ranking.scores(keys, weights))

    def _pending(self, trials: Sequence[FrozenTrial]) -> list[int]:
        # A thread's cached list of trials may be shorter than the one last folded.
        return [position for position in self.fold.pending if position < len(trials)]

    def _use_space(self, space: SearchSpace) -> None:
        if space.key != self._space_key:
            self._space_key, self._points, self._n_observed = space.key, {}, 0
            self._observations = Observations(space.normalised.n_choices)

    def _point(self, space: SearchSpace, number: int) -> Point | None:
        if number not in self._points:
            self._points[number] = space.encode_if_contained(self._params[number])
        return self._points[number]

    def _result(self, trial: FrozenTrial) -> Result:
        """Read a trial once, when first seen finished."""
        key = _trials.result_key(trial, self.signs)
        decision = self._decision(trial)
        if decision is not None and (
            self._newest_decision is None or trial.number > self._newest_decision[0]
        ):
            self._newest_decision = (trial.number, decision)
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            self._intersect(trial.distributions)
        if key is not None:
            self._params[trial.number] = trial.params
            if key.group in (COMPLETED, INFEASIBLE):
                finite = all(math.isfinite(v) for v in _values_of(key))
                self._completed.append((trial.number, key, finite))
        return Result(trial.number, key, decision)

    def _intersect(self, distributions: dict[str, BaseDistribution]) -> None:
        if self.intersection is None:
            self.intersection = dict(distributions)
        else:
            self.intersection = {
                name: dist
                for name, dist in self.intersection.items()
                if distributions.get(name) == dist
            }

    def _decision(self, trial: FrozenTrial) -> Decision | None:
        """The decision recorded on ``trial``; malformed ones are ignored with one warning."""
        try:
            return _trials.parse_decision(trial)
        except _attrs.InvalidDecision as exc:
            if not self._warned_invalid:
                self._warned_invalid = True
                warnings.warn(
                    f"Ignoring a malformed `{_attrs.DECISION_KEY}` attr on trial "
                    f"#{trial.number} ({exc}); such trials count as history only.",
                    stacklevel=2,
                )
            return None


def _values_of(key: Key) -> tuple[float, ...]:
    return (key.value,) if isinstance(key, RankKey) else key.values
