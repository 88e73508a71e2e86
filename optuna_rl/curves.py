"""Learning curves and the pruner's state: where a trial stands among the others at a step.

Pure numpy; knows nothing of Optuna. Values are signed so that smaller is better (negated for
maximisation); NaN counts as the worst value.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Curve:
    """The intermediate values a trial reported, by step.

    Args:
        values: ``step -> value`` as ``FrozenTrial.intermediate_values`` holds them.
        sign: ``1.0`` to minimise, ``-1.0`` to maximise.
    """

    def __init__(self, values: Mapping[int, float], sign: float) -> None:
        steps = sorted(values)
        self.steps = np.array(steps, dtype=np.int64)
        signed = np.array([sign * values[s] for s in steps], dtype=np.float64)
        self.values = np.where(np.isnan(signed), np.inf, signed)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int:
        return int(self.steps[-1])

    def value_at(self, step: int) -> float | None:
        """The value last reported at or before ``step``, if the curve spans ``step``.

        Steps need not be aligned across trials (one may report every 3rd step): the nearest
        report at or before ``step`` stands for it. A curve that ended before ``step`` or began
        after it has no value there.
        """
        if len(self.steps) == 0 or step < self.steps[0] or step > self.steps[-1]:
            return None
        return float(self.values[np.searchsorted(self.steps, step, side="right") - 1])

    def values_at(self, steps: np.ndarray) -> np.ndarray:
        """:meth:`value_at` for many steps at once; NaN where the curve has no value."""
        out = np.full(len(steps), np.nan)
        if len(self.steps) == 0:
            return out
        inside = (steps >= self.steps[0]) & (steps <= self.steps[-1])
        index = np.searchsorted(self.steps, steps[inside], side="right") - 1
        out[inside] = self.values[index]
        return out


class Standings(NamedTuple):
    """Where values stand among other curves, one entry per step."""

    quantile: np.ndarray
    """Fraction of the other curves better at the step (ties count one half); NaN if no other
    curve has a value there."""
    is_best: np.ndarray
    """No other curve is strictly better at the step."""


def standings(values: np.ndarray, steps: np.ndarray, others: Sequence[Curve]) -> Standings:
    """Rank ``values[i]`` at ``steps[i]`` among the values of ``others`` at the same steps."""
    if not others:
        return Standings(np.full(len(steps), np.nan), np.ones(len(steps), dtype=bool))
    table = np.array([curve.values_at(steps) for curve in others])
    present = ~np.isnan(table)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore"):
        better = (table < values).sum(axis=0)
        ties = (table == values).sum(axis=0)
    quantile = np.where(n > 0, (better + 0.5 * ties) / np.maximum(n, 1), np.nan)
    return Standings(quantile, better == 0)


PROGRESS_EDGES = (0.1, 0.25, 0.5, 0.75)
PROGRESS_NAMES = ("<10% done", "10-25% done", "25-50% done", "50-75% done", ">75% done")
RANK_EDGES = (0.25, 0.5, 0.75, 0.9)
RANK_NAMES = ("top quarter", "second quarter", "third quarter", "75-90th pct", "bottom 10%")
TREND_EDGE = 0.1
"""A rank that moved by more than this fraction of the others since the last report is a
trend."""
TREND_NAMES = ("gaining", "steady", "losing")

N_STATES = len(PROGRESS_NAMES) * len(RANK_NAMES) * len(TREND_NAMES)
CONTINUE = 0
PRUNE = 1
ACTION_NAMES = ("continue", "prune")


def state_index(fraction_done: float, quantile: float, quantile_change: float) -> int:
    """The pruner's state from the fraction of the run done, the rank quantile at this step
    (0 best, 1 worst) and its change since the previous report."""
    progress = int(np.searchsorted(PROGRESS_EDGES, fraction_done, side="right"))
    rank = int(np.searchsorted(RANK_EDGES, quantile, side="right"))
    trend = 1
    if quantile_change < -TREND_EDGE:
        trend = 0
    elif quantile_change > TREND_EDGE:
        trend = 2
    return (progress * len(RANK_NAMES) + rank) * len(TREND_NAMES) + trend


def better_ranked_states(index: int) -> list[int]:
    """The states at the same progress and trend whose rank is as good or better, best first.

    The chance of finishing among the best can only fall as the rank at a step worsens, so a
    state where pruning pays tells that pruning pays in every worse-ranked state too. This lets
    evidence flow to bad ranks, which completed curves visit rarely precisely because trials
    there are pruned.
    """
    rest, trend = divmod(index, len(TREND_NAMES))
    progress, rank = divmod(rest, len(RANK_NAMES))
    return [(progress * len(RANK_NAMES) + r) * len(TREND_NAMES) + trend for r in range(rank + 1)]


def describe_state(index: int) -> str:
    """The state in words, e.g. ``"25-50% done, bottom 10%, losing"``."""
    if not 0 <= index < N_STATES:
        raise ValueError(f"state index must be in [0, {N_STATES}), got {index}.")
    rest, trend = divmod(index, len(TREND_NAMES))
    progress, rank = divmod(rest, len(RANK_NAMES))
    return f"{PROGRESS_NAMES[progress]}, {RANK_NAMES[rank]}, {TREND_NAMES[trend]}"
