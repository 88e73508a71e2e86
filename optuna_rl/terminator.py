"""Stop a study when :class:`~optuna_rl.RLSampler`'s search has converged.

:class:`ConvergenceCallback` plays the part of Optuna's
:class:`optuna.terminator.TerminatorCallback` (deprecated since Optuna 4.9) for a study sampled
by :class:`~optuna_rl.RLSampler`: it needs no cross-validation scores and costs milliseconds,
because it reads what the sampler already records on the trials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from optuna.trial import TrialState

from optuna_rl import _compat
from optuna_rl import _convergence
from optuna_rl._logging import get_logger
from optuna_rl._search_space import SearchSpace
from optuna_rl._trials import direction_sign
from optuna_rl._trials import recorded_decision
from optuna_rl._validation import check_bool
from optuna_rl._validation import check_float
from optuna_rl._validation import check_int
from optuna_rl.sampling.moves import MIN_STEP_SIZE
from optuna_rl.sampling.surrogate import feature_groups
from optuna_rl.sampling.surrogate import features


if TYPE_CHECKING:
    from optuna.study import Study
    from optuna.trial import FrozenTrial


_logger = get_logger(__name__)

MAX_MODEL_POINTS = 150
"""The model check fits the completed trials nearest to the best one, at most this many, so
that its cost stays bounded however long the study runs."""
MIN_MODEL_POINTS = 5
"""Fewer completed trials in the best trial's search space than this: no model, no stop."""
N_CANDIDATES = 256
"""Points around the best trial at which the model check evaluates the expected improvement."""


class ConvergenceCallback:
    """A ``study.optimize`` callback that stops the study once its search has converged.

    The search has converged when these signs agree, all read from the trials:

    1. **Stagnation.** For the last ``patience`` results (completed or pruned trials), the best
       value has not improved by more than ``tol`` times the spread of the values (the median
       completed value minus the best one). Smaller improvements add up until together they
       count.
    2. **Small steps.** The median size of the last ``patience`` moves of
       :class:`~optuna_rl.RLSampler`'s agent is at most ``max_step_size``: the agent is refining
       around its best points, not exploring. A move's size is the smaller of the agent's step
       size when it made the move and the move's length: how far its trial's point lies from
       the trial the move started from, the root mean square of the parameters' changes (a
       categorical parameter counts 1 where it changed; a restart counts 1), both in the
       normalised space, where every numeric parameter spans [0, 1]. The length counts for the
       moves that do not draw with the step size (the model-guided and the differential ones
       scale to the best points' spread). (In a space of categorical parameters only, the
       agent's restarts keep the step size large and every move changes a choice: there the
       study stops only if the agent's moves shrink the step size.)
    3. **Little left to gain** (only with ``use_model=True``). A Gaussian process fitted to the
       ranks of the completed trials nearest the best one predicts, around the best trial, an
       expected improvement below ``tol`` times the spread, the two measured in the model's
       rank scale. It makes the callback stop later; on the tabular HPO tasks of
       ``benchmarks/convergence.py`` it did not lower the regret at the stop, so it is off by
       default.

    The callback then calls :meth:`optuna.study.Study.stop`. Trials that violate a constraint
    (``Trial.set_constraint``) count as results that did not improve. The signs come from the
    decisions that :class:`~optuna_rl.RLSampler` records on its trials, so with another sampler
    the study never stops. With several workers, each worker's callback stops its own
    ``optimize`` loop, on the same evidence (the shared trials). Only single-objective studies
    are supported.

    Example:

        .. testcode::

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.terminator import ConvergenceCallback


            def objective(trial):
                x = trial.suggest_float("x", -10, 10)
                y = trial.suggest_int("y", -5, 5)
                return x**2 + y**2


            study = optuna.create_study(sampler=RLSampler(seed=0))
            study.optimize(objective, n_trials=200, callbacks=[ConvergenceCallback()])
            assert len(study.trials) < 200

    Args:
        tol: Improvements smaller than this fraction of the spread of the values do not count,
            in [0, 1]; also the model check's threshold. Larger values stop sooner.
        patience: Number of results without a counted improvement (and of recent moves whose
            step sizes are checked) before the search can be judged converged, at least 1.
        max_step_size: Largest median move size of a converged search, in (0, 1].
        use_model: Whether to require the model check too (tens of milliseconds, made only
            when the other signs agree).

    Raises:
        ValueError: If a numeric argument is out of its range.
        TypeError: If an argument has the wrong type.
    """

    def __init__(
        self,
        *,
        tol: float = 0.05,
        patience: int = 15,
        max_step_size: float = 0.02,
        use_model: bool = False,
    ) -> None:
        self._tol = check_float("tol", tol, low=0.0, high=1.0)
        self._patience = check_int("patience", patience, minimum=1)
        self._max_step_size = check_float(
            "max_step_size", max_step_size, low=0.0, high=1.0, low_open=True
        )
        self._use_model = check_bool("use_model", use_model)

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        if self.converged(study):
            _logger.info(
                f"Stopping the study after trial {trial.number}: its search has converged "
                f"(no improvement above tol={self._tol} of the spread in {self._patience} "
                "results, and small steps)."
            )
            study.stop()

    def converged(self, study: Study) -> bool:
        """Whether the study's search has converged (see the class description).

        Args:
            study: The study to judge, single-objective.

        Returns:
            Whether it has converged: no improvement beyond ``tol`` in ``patience`` results,
            while the agent's moves are small (and, with ``use_model``, the model expects
            little more).

        Raises:
            ValueError: If the study has several objectives.
        """
        if _compat.is_multi_objective(study):
            raise ValueError(
                "ConvergenceCallback supports single-objective studies only; this study has "
                f"{len(study.directions)} objectives."
            )
        trials = _compat.get_trials(
            study, states=(TrialState.COMPLETE, TrialState.PRUNED), fresh=True
        )
        values = _signed_values(trials, direction_sign(study))
        if not np.isfinite(values).any():
            return False
        if _convergence.results_since_improvement(values, self._tol) < self._patience:
            return False
        best = trials[int(np.argmin(values))]
        space = _trial_space(best)
        steps = _agent_move_sizes(trials, self._patience)
        step_size = _convergence.median_step_size(steps, self._patience)
        if steps.size < self._patience or step_size > self._max_step_size:
            return False
        if not self._use_model:
            return True
        # The model looks around the best trial at the scale the agent now moves at.
        return self._little_left_to_gain(
            trials, values, best, space, max(step_size, MIN_STEP_SIZE)
        )

    def _little_left_to_gain(
        self,
        trials: list[FrozenTrial],
        values: np.ndarray,
        best: FrozenTrial,
        space: SearchSpace,
        step_size: float,
    ) -> bool:
        if not space.distributions:
            return True  # Nothing to search: stagnation says it all.
        rows, ys = [], []
        n_choices = space.normalised.n_choices
        for trial, value in zip(trials, values.tolist(), strict=True):
            point = space.encode_if_contained(trial.params)
            if trial.state == TrialState.COMPLETE and np.isfinite(value) and point is not None:
                rows.append(features(point.numeric[None], point.categorical[None], n_choices)[0])
                ys.append(value)
        best_point = space.encode(best.params)
        centre = features(best_point.numeric[None], best_point.categorical[None], n_choices)[0]
        if len(rows) < MIN_MODEL_POINTS:
            return False
        x, y = np.array(rows), np.array(ys)
        nearest = np.argsort(((x - centre) ** 2).sum(1), kind="stable")[:MAX_MODEL_POINTS]
        groups = feature_groups(space.normalised.n_numeric, n_choices)
        rng = np.random.default_rng([len(trials), best.number])
        candidates = _convergence.neighbourhood(
            rng,
            centre,
            groups,
            space.normalised.n_numeric,
            n_choices,
            step_size,
            N_CANDIDATES,
        )
        gain = _convergence.expected_gain(x[nearest], y[nearest], candidates, groups)
        return gain < self._tol


def _agent_move_sizes(trials: list[FrozenTrial], window: int) -> np.ndarray:
    """Sizes of the last ``window`` moves RLSampler's agent chose, in trial-number order: the
    smaller of the step size recorded with each and its length (see :func:`_move_length`)."""
    by_number = {t.number: t for t in trials}
    moved = [(t, d) for t in trials if (d := recorded_decision(t)) is not None and d.by_agent]
    return np.array(
        [min(d.step_size, _move_length(t, d.anchor, by_number)) for t, d in moved[-window:]]
    )


def _move_length(
    trial: FrozenTrial, anchor_number: int, by_number: dict[int, FrozenTrial]
) -> float:
    """Root mean square of the parameters' changes from the trial the move started from, in
    the normalised space (a categorical parameter counts 1 where it changed); 1 for a restart,
    and when that trial is not among the results or lies outside this trial's space."""
    anchor = by_number.get(anchor_number)
    space = _trial_space(trial)
    if anchor is None or not space.distributions:
        return 1.0
    start = space.encode_if_contained(anchor.params)
    if start is None:
        return 1.0
    end = space.encode(trial.params)
    changes = np.concatenate(
        [end.numeric - start.numeric, (end.categorical != start.categorical).astype(float)]
    )
    return float(np.sqrt(np.mean(changes**2)))


def _trial_space(trial: FrozenTrial) -> SearchSpace:
    """The space of ``trial``'s parameters that can take more than one value."""
    return SearchSpace(
        {name: dist for name, dist in trial.distributions.items() if not dist.single()}
    )


def _signed_values(trials: list[FrozenTrial], sign: float) -> np.ndarray:
    """Completed trials' values signed smaller-is-better; ``inf`` for the results that cannot
    be the best: pruned trials, NaN values, and trials that violate a constraint
    (``Trial.set_constraint``)."""
    values = [
        sign * t.values[0]
        if t.state == TrialState.COMPLETE and t.values and not _violates(t)
        else np.inf
        for t in trials
    ]
    array = np.array(values, dtype=np.float64)
    array[np.isnan(array)] = np.inf
    return array


def _violates(trial: FrozenTrial) -> bool:
    return any(value > 0.0 for value in trial.constraints.values())
