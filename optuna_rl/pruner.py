"""RLPruner: the Optuna glue around the pruner's agent (:mod:`optuna_rl.pruning`)."""

from __future__ import annotations

import datetime
import math
import threading
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.pruners import BasePruner

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl import _trials
from optuna_rl._pruner_study import PrunerStudy
from optuna_rl._validation import check_float
from optuna_rl._validation import check_int
from optuna_rl._validation import check_q_table
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.policy import Verdict
from optuna_rl.pruning.policy import decide
from optuna_rl.pruning.prior import PriorTable
from optuna_rl.pruning.prior import check_prior
from optuna_rl.pruning.prior import load_prior
from optuna_rl.pruning.state import N_STATES


if TYPE_CHECKING:
    from optuna.study import Study
    from optuna.trial import FrozenTrial


_MAX_TRACKED_TRIALS = 10_000
"""Bound on the trials whose last written decision is remembered (to skip unchanged writes)."""
_TABLE_WEIGHT = 20
"""Pseudo-count of each entry of a table passed as ``initial_q_table`` (at ``prior_weight=1``):
the largest weight of the shipped prior's entries."""


class RLPruner(BasePruner):
    """Pruner whose continue-or-prune policy is learned by Q-learning from learning curves.

    At each report, the pruner bins the fraction of the run done, the rank of the trial's value
    among the other finished trials at the same (or nearest earlier) step, the change of that
    rank since the last report, and whether the curve's recent slope, carried on, would
    overtake the best value at that step into a state. The Q-table over (state, continue/prune)
    starts from a prior policy learned offline, by the same Q-learning, from the learning
    curves of many tasks (``benchmarks/train_pruner_prior.py``), so it prunes from the first
    trials on; the study's own completed curves refine it. They teach with hindsight: pruning
    at a report would have saved the rest of the run, and would have lost a winner had the
    trial finished among the best ``top_quantile`` of the completed trials; continuing is
    scored by what the current policy would have done along the rest of the curve. A lost
    winner costs a few runs, not ``1 / top_quantile``: at a fixed compute budget, what pruning
    saves buys more trials, and the policy is tuned for the best value reached for the compute
    spent. The table is rebuilt from the study's trials, so workers sharing a storage share the
    policy.

    A trial is never pruned before ``n_startup_trials`` trials have completed, before
    ``n_warmup_steps``, in a state with fewer than 5 samples, the prior's pseudo-counts included
    (unless pruning pays in a better-ranked state at the same progress and trend), at the last
    step of the longest completed run (nothing is left to save), or while its value is the best
    at its step. A trial whose latest value is NaN (a run that diverged) is pruned, after the
    warm-up and the start-up trials, at any step, the last included; Optuna's
    :class:`~optuna.pruners.MedianPruner` prunes one only when all its values are NaN. Each
    decision is written on the trial as the
    user attr ``rl_pruner`` (state, Q-values, samples and the reason), which optuna-dashboard
    shows: when the decision, its reason or the state changes, and always when the trial is
    pruned.

    Like Optuna's pruners, RLPruner serves single-objective studies only: in a multi-objective
    study :meth:`optuna.trial.Trial.report` and :meth:`optuna.trial.Trial.should_prune` raise
    :class:`NotImplementedError`, and so does :meth:`prune`. It can stay set on such a study as
    long as its trials do not report (``create_study(directions=[...], pruner=RLPruner())``).

    Example:

        .. testcode::

            import optuna
            from optuna_rl import RLPruner


            def objective(trial):
                x = trial.suggest_float("x", -10, 10)
                for step in range(20):
                    value = (x - 2) ** 2 + 10.0 / (step + 1)
                    trial.report(value, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return value


            study = optuna.create_study(pruner=RLPruner())
            study.optimize(objective, n_trials=30)

    Args:
        n_startup_trials:
            Pruning is disabled until this many trials have completed.
        n_warmup_steps:
            Pruning is disabled before a trial reaches this step; earlier reports are not
            learned from either.
        interval_steps:
            Interval in number of steps between the pruning checks, offset by the warm-up
            steps, as in :class:`~optuna.pruners.MedianPruner`.
        top_quantile:
            The risk knob, in (0, 1): completed trials whose final value ranks in this top
            fraction are winners, which pruning avoids losing. Larger values prune less. The
            shipped prior was learned for the default, 0.1; with another value it is where the
            study's learning starts.
        initial_q_table:
            The prior Q-table (``n_states x 2``: continue, prune) the study's learning starts
            from. By default, the table shipped with the package, learned offline on a corpus of
            learning curves by ``benchmarks/train_pruner_prior.py``.
        prior_weight:
            How much the prior weighs against the study's own samples, >= 0: each prior value
            counts as ``prior_weight`` times its pseudo-count of samples (the shipped prior's are
            up to 20, a given table's are 20), so the study's samples outweigh it as they
            accumulate. 0 starts from nothing: the pruner learns from the study's curves alone.

    Raises:
        ValueError: If a numeric argument is out of its range.
        TypeError: If an argument has the wrong type.
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 1,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        top_quantile: float = 0.1,
        initial_q_table: np.ndarray | None = None,
        prior_weight: float = 1.0,
    ) -> None:
        self._n_startup_trials = check_int("n_startup_trials", n_startup_trials, minimum=0)
        self._n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, minimum=0)
        self._interval_steps = check_int("interval_steps", interval_steps, minimum=1)
        self._top_quantile = check_float(
            "top_quantile", top_quantile, low=0.0, high=1.0, low_open=True, high_open=True
        )
        weight = check_float("prior_weight", prior_weight, low=0.0, high=math.inf, high_open=True)
        self._prior = _prior(initial_q_table, weight)
        self._init_caches()

    def _init_caches(self) -> None:
        self._caches = _trials.StudyCaches(self._new_study_cache)
        self._lock = threading.Lock()
        self._last_decision: dict[tuple[int, int, datetime.datetime | None], str] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The caches and the lock stay behind: they are rebuilt from storage.
        state = self.__dict__.copy()
        for name in ("_caches", "_lock", "_last_decision"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_caches()

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        if _compat.is_multi_objective(study):
            raise NotImplementedError(
                "RLPruner does not support multi-objective optimization, as Trial.should_prune."
            )
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return False
        if not _compat.is_first_in_interval_step(
            step, trial.intermediate_values.keys(), self._n_warmup_steps, self._interval_steps
        ):
            return False
        # Fresh: the per-trial cache would freeze the other curves at the start of this trial.
        trials = _compat.get_trials(study, fresh=True)
        cache = self._caches.get(study, trials)
        with cache.lock:
            cache.sync(trials)
            if cache.learner.n_completed < max(self._n_startup_trials, 1):
                return False
            verdict = decide(cache.learner, cache.curve(trial))
        if verdict is None:
            return False
        self._explain(study, trial, step, verdict)
        return verdict.prune

    def _learner(self, study: Study) -> CurveLearner:
        """The learner as rebuilt from the study's trials (the live object, not a copy)."""
        trials = _compat.get_trials(study, fresh=True)
        cache = self._caches.get(study, trials)
        with cache.lock:
            cache.sync(trials)
            return cache.learner

    def _new_study_cache(self, study: Study) -> PrunerStudy:
        learner = CurveLearner(self._top_quantile, self._n_warmup_steps, self._prior)
        return PrunerStudy(learner, _trials.direction_sign(study))

    def _explain(self, study: Study, trial: FrozenTrial, step: int, verdict: Verdict) -> None:
        """Write why, when the decision, its reason or the state changed since the last check of
        this trial, and always when it is pruned: one storage write per report would cost more
        than the report itself on a Journal file storage."""
        # A trial id alone is not unique: each in-memory storage counts from 0, and an RDB may
        # give a recreated study's trials the ids of the deleted ones.
        key = (id(_compat.get_storage(study)), _compat.trial_id(trial), trial.datetime_start)
        with self._lock:
            if not verdict.prune and self._last_decision.get(key) == verdict.reason:
                return
            if verdict.prune:
                self._last_decision.pop(key, None)
            else:
                if len(self._last_decision) > _MAX_TRACKED_TRIALS:
                    self._last_decision.clear()
                self._last_decision[key] = verdict.reason
        _compat.set_trial_user_attr(
            study, trial, _attrs.USER_PRUNER, f"step {step}: {verdict.reason}{verdict.values}"
        )


def _prior(table: Any, weight: float) -> PriorTable:
    """The prior a study's learner starts from: ``table`` (the shipped one if ``None``) with its
    pseudo-counts times ``weight``; nothing at all if ``weight`` is 0."""
    shape = (N_STATES, 2)
    q = None if table is None else check_q_table(table, shape)
    if weight == 0.0:
        return PriorTable.nothing()
    if q is None:
        return load_prior().scaled(weight)
    return check_prior(q, np.full(shape, _TABLE_WEIGHT)).scaled(weight)
