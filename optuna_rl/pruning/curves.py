"""Learning curves and the pruner's state: where a trial stands among the others at a step.

Pure numpy; knows nothing of Optuna. Values are signed so that smaller is better (negated for
maximisation); NaN counts as the worst value.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from bisect import insort
from collections.abc import Mapping
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


class StepIndex:
    """The folded curves' values, sorted, at every step any of them reported, so that ranking a
    value at a step is a binary search instead of a pass over all curves.

    A curve's value at a step is the one it last reported at or before it (see
    :meth:`Curve.value_at`); a curve counts at the steps it spans. A query at a step nobody
    reported uses the nearest earlier reported step. Adding a curve costs one sorted insertion
    per reported step in its span (and a pass over the curves for a step never seen before).
    """

    def __init__(self) -> None:
        self._steps: list[int] = []
        self._values: dict[int, list[float]] = {}
        self._curves: list[Curve] = []

    def __len__(self) -> int:
        return len(self._curves)

    def add(self, curve: Curve) -> None:
        if len(curve) == 0:
            return
        for step in curve.steps.tolist():
            if step not in self._values:
                at_step = (c.value_at(step) for c in self._curves)
                self._values[step] = sorted(v for v in at_step if v is not None)
                insort(self._steps, step)
        low = bisect_left(self._steps, int(curve.steps[0]))
        high = bisect_right(self._steps, curve.last_step)
        for step in self._steps[low:high]:
            value = curve.value_at(step)
            assert value is not None
            insort(self._values[step], value)
        self._curves.append(curve)

    def counts(self, value: float, step: int) -> tuple[int, int, int]:
        """``(better, ties, n)``: of the ``n`` curves at ``step``, how many beat, how many tie."""
        position = bisect_right(self._steps, step) - 1
        if position < 0:
            return 0, 0, 0
        values = self._values[self._steps[position]]
        better = bisect_left(values, value)
        return better, bisect_right(values, value) - better, len(values)


def standings(values: np.ndarray, steps: np.ndarray, index: StepIndex) -> Standings:
    """Rank ``values[i]`` at ``steps[i]`` among the curves in ``index`` at the same steps."""
    quantile = np.full(len(steps), np.nan)
    is_best = np.ones(len(steps), dtype=bool)
    for i, (value, step) in enumerate(zip(values.tolist(), steps.tolist(), strict=True)):
        better, ties, n = index.counts(value, step)
        if n:
            quantile[i] = (better + 0.5 * ties) / n
            is_best[i] = better == 0
    return Standings(quantile, is_best)


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
