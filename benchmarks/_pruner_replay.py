"""RLPruner's decisions replayed on a pool of curves without Optuna, for training its prior.

:func:`replay` does what a one-worker study under ``RLPruner`` does (see ``optuna_rl/pruner.py``)
with the pure parts it is made of: at each report, once ``n_startup_trials`` trials have
completed, :func:`optuna_rl.pruning.policy.decide` on the curve so far; every finished trial is
folded into the learner in trial order. It is a few times faster than driving an Optuna study,
which matters when a prior is learned from thousands of studies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.learner import CurveRecord
from optuna_rl.pruning.policy import decide


class Replayed(NamedTuple):
    """One trial of a replayed study (the layout of ``pruning.TrialRecord``)."""

    config: int
    epochs: int
    final: float | None


def replay(
    curves: np.ndarray,
    sign: float,
    draws: Iterable[int],
    learner: CurveLearner,
    *,
    n_startup_trials: int = 5,
    n_trials: int | None = None,
    epoch_budget: int | None = None,
) -> list[Replayed]:
    """Replay the configurations ``draws`` (rows of ``curves``, reported at steps ``1..H``)
    under the pruner whose learner is ``learner``: ``n_trials`` trials, or as many as start
    before ``epoch_budget`` epochs are spent (the trial running then stops there, as pruned)."""
    horizon = curves.shape[1]
    steps = np.arange(1, horizon + 1)
    records: list[Replayed] = []
    spent = 0
    for config in draws:
        if n_trials is not None and len(records) >= n_trials:
            break
        if epoch_budget is not None and spent >= epoch_budget:
            break
        row = curves[config]
        stop, pruned = horizon, False
        for epoch in range(1, horizon + 1):
            spent += 1
            out_of_budget = epoch_budget is not None and spent >= epoch_budget
            if learner.n_completed >= max(n_startup_trials, 1):
                verdict = decide(
                    learner, Curve(dict(zip(steps[:epoch], row[:epoch], strict=True)), sign)
                )
                if verdict is not None and verdict.prune:
                    stop, pruned = epoch, True
                    break
            if out_of_budget and epoch < horizon:
                stop, pruned = epoch, True
                break
        reported = dict(zip(steps[:stop].tolist(), row[:stop].tolist(), strict=True))
        curve = Curve(reported, sign)
        final = None
        if not pruned and not np.isnan(row[-1]):
            final = float(sign * row[-1])
        learner.fold(CurveRecord(curve, final))
        records.append(Replayed(int(config), stop, None if final is None else float(row[-1])))
    return records
