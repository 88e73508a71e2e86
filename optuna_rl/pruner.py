"""RLPruner: Optuna glue around the learned pruning policy."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING
import weakref

import numpy as np
from optuna.pruners import BasePruner
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl._validation import check_float
from optuna_rl._validation import check_int
from optuna_rl.curves import ACTION_NAMES
from optuna_rl.curves import PRUNE
from optuna_rl.curves import Curve
from optuna_rl.curves import better_ranked_states
from optuna_rl.curves import describe_state
from optuna_rl.pruner_history import MIN_STATE_SAMPLES
from optuna_rl.pruner_history import CurveReplay


if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna.storages import BaseStorage
    from optuna.study import Study
    from optuna.trial import FrozenTrial


_MAX_TRACKED_TRIALS = 10_000
"""Bound on the trials whose last written decision is remembered (to skip unchanged writes)."""


def _pruning_evidence(q: np.ndarray, visits: np.ndarray, state: int) -> int | None:
    """The state, this one or one as well ranked at the same progress and trend, seen often
    enough where pruning has the higher Q-value; ``None`` if there is none."""
    for candidate in reversed(better_ranked_states(state)):
        if visits[candidate, PRUNE] >= MIN_STATE_SAMPLES and q[candidate, PRUNE] > q[candidate, 0]:
            return candidate
    return None


class _PrunerCache:
    """The replay of one study, folded up to the first unfinished trial (in number order), so
    that what is learned never depends on which worker finished first."""

    def __init__(self, replay: CurveReplay, sign: float) -> None:
        self.replay = replay
        self.sign = sign
        self.n_folded = 0
        self.last_trial_id: int | None = None

    def is_prefix_of(self, trials: Sequence[FrozenTrial]) -> bool:
        if self.n_folded == 0:
            return True
        return (
            len(trials) >= self.n_folded
            and _compat.trial_id(trials[self.n_folded - 1]) == self.last_trial_id
        )

    def fold(self, trials: Sequence[FrozenTrial]) -> None:
        while self.n_folded < len(trials) and trials[self.n_folded].state.is_finished():
            trial = trials[self.n_folded]
            curve = Curve(trial.intermediate_values, self.sign)
            final = None
            if trial.state == TrialState.COMPLETE and trial.values is not None:
                final = self.sign * trial.values[0]
            self.replay.fold(curve, final)
            self.n_folded += 1
            self.last_trial_id = _compat.trial_id(trial)


class RLPruner(BasePruner):
    """Pruner whose continue-or-prune policy is learned by Q-learning from finished curves.

    At each report, the pruner bins the fraction of the run done, the rank of the trial's value
    among the other finished trials at the same (or nearest earlier) step, and the change of
    that rank since the last report into a state. The Q-table over (state, continue/prune) is
    learned off-policy from the completed trials' learning curves, with hindsight: pruning at a
    step would have saved the rest of the run, and would have cost ``1 / top_quantile`` full
    runs had the trial finished among the best ``top_quantile`` of the completed trials. Curves
    cut short (pruned or failed trials) teach by temporal-difference bootstrapping toward the
    values of the states they reached next, where completed curves have been at least 5 times.
    The table is rebuilt from the study's trials, so workers sharing a storage share the policy.

    A trial is never pruned before ``n_startup_trials`` trials have completed, before
    ``n_warmup_steps``, in a state with fewer than 5 samples, completed or bootstrapped (unless
    pruning pays in a state as well ranked at the same progress and trend), or while its value
    is the best at its step. A NaN value is pruned (after the warm-up), as Optuna's
    :class:`~optuna.pruners.MedianPruner` does. Each decision is written on the trial as the
    user attr ``rl_pruner`` (state, Q-values and the reason), which optuna-dashboard shows:
    when the decision, its reason or the state changes, and always when the trial is pruned.

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
            fraction are winners; losing one costs ``1 / top_quantile`` full runs. Smaller values
            prune more aggressively.

    Raises:
        ValueError: If a numeric argument is out of its range.
        TypeError: If an argument has the wrong type.
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        top_quantile: float = 0.1,
    ) -> None:
        self._n_startup_trials = check_int("n_startup_trials", n_startup_trials, minimum=0)
        self._n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, minimum=0)
        self._interval_steps = check_int("interval_steps", interval_steps, minimum=1)
        self._top_quantile = check_float(
            "top_quantile", top_quantile, low=0.0, high=1.0, low_open=True, high_open=True
        )
        self._caches: weakref.WeakKeyDictionary[BaseStorage, dict[int, _PrunerCache]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.RLock()
        self._last_decision: dict[int, str] = {}

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
        with self._lock:
            cache = self._cache(study)
            replay = cache.replay
            if replay.n_completed < self._n_startup_trials or replay.n_completed == 0:
                return False
            if math.isnan(trial.intermediate_values[step]):
                self._explain(study, trial, step, "prune (the value is NaN)", "", final=True)
                return True
            found = replay.state(Curve(trial.intermediate_values, cache.sign))
            if found is None:
                return False
            state, is_best = found
            q_continue, q_prune = (float(v) for v in replay.agent.q[state])
            samples = int(replay.agent.visits[state, PRUNE])
            evidence = _pruning_evidence(replay.agent.q, replay.agent.visits, state)
        prune = not is_best and evidence is not None
        if is_best:
            reason = "best at this step"
        elif evidence == state:
            reason = "higher Q-value"
        elif evidence is not None:
            reason = f"pruning pays at a better rank: {describe_state(evidence)}"
        elif samples < MIN_STATE_SAMPLES:
            reason = f"state seen {samples} times, too little evidence"
        else:
            reason = "higher Q-value"
        self._explain(
            study,
            trial,
            step,
            f"{ACTION_NAMES[int(prune)]} ({reason}); state: {describe_state(state)}",
            f"; Q(continue)={q_continue:.3f}, Q(prune)={q_prune:.3f}",
            final=prune,
        )
        return prune

    def _cache(self, study: Study) -> _PrunerCache:
        # Fresh: the per-trial cache would freeze the curves at the start of this trial.
        trials = _compat.get_trials(study, fresh=True)
        per_study = self._caches.setdefault(_compat.get_storage(study), {})
        study_id = _compat.get_study_id(study)
        cache = per_study.get(study_id)
        if cache is None or not cache.is_prefix_of(trials):
            sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0
            cache = _PrunerCache(CurveReplay(self._top_quantile, self._n_warmup_steps), sign)
            per_study[study_id] = cache
        cache.fold(trials)
        return cache

    def _explain(
        self, study: Study, trial: FrozenTrial, step: int, decision: str, values: str, final: bool
    ) -> None:
        """Write why, when the decision, its reason or the state changed since the last check of
        this trial, and always when it is pruned: one storage write per report would cost more
        than the report itself on a Journal file storage."""
        key = _compat.trial_id(trial)
        with self._lock:
            if not final and self._last_decision.get(key) == decision:
                return
            if final:
                self._last_decision.pop(key, None)
            else:
                if len(self._last_decision) > _MAX_TRACKED_TRIALS:
                    self._last_decision.clear()
                self._last_decision[key] = decision
        _compat.set_trial_user_attr(
            study, trial, _attrs.USER_PRUNER, f"step {step}: {decision}{values}"
        )
