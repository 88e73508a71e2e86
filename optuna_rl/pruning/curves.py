"""Learning curves, and where a value stands among the other curves at a step.

Values are signed so that smaller is better (negated for maximisation); NaN counts as the worst
value.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from bisect import insort
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from optuna_rl.core.agent import Undo
from optuna_rl.core.ranking import Counts
from optuna_rl.core.ranking import SortedMultiset


MAX_STEP = int(np.iinfo(np.int64).max)
"""The largest step a curve keeps as it is (steps are int64 arrays)."""


class Curve:
    """The intermediate values a trial reported, by step.

    Args:
        values: ``step -> value`` as ``FrozenTrial.intermediate_values`` holds them.
        sign: ``1.0`` to minimise, ``-1.0`` to maximise.
    """

    def __init__(self, values: Mapping[int, float], sign: float) -> None:
        steps = sorted(values)
        if steps and steps[-1] > MAX_STEP:
            # Optuna takes any int step: beyond int64 a report stands at MAX_STEP (the last of
            # them wins), where it ranks after every other.
            clipped = {min(s, MAX_STEP): values[s] for s in steps}
            steps, values = sorted(clipped), clipped
        self.steps = np.array(steps, dtype=np.int64)
        signed = np.array([sign * values[s] for s in steps], dtype=np.float64)
        self.is_nan = np.isnan(signed)
        self.values = np.where(self.is_nan, np.inf, signed)

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


class Standings(NamedTuple):
    """Where values stand among other curves, one entry per step."""

    quantile: np.ndarray
    """Rank quantile among the other curves at the step, as the value's position among them
    and itself, ``(better + ties / 2 + 1 / 2) / (n + 1)``; NaN if no other curve has a value
    there. Against a few curves a rank says little, and this keeps it near the middle: worse
    than the one other curve is 0.75, worse than all of 20 is 0.98."""
    is_best: np.ndarray
    """No other curve is strictly better at the step."""


class StepIndex:
    """The folded curves' values, sorted, at every step any of them reported, so that ranking a
    value at a step is a binary search instead of a pass over all curves.

    A curve's value at a step is the one it last reported at or before it (see
    :meth:`Curve.value_at`); a curve counts at the steps it spans. A query at a step nobody
    reported uses the nearest earlier reported step without the curves that ended there (they
    do not span the step asked about). Adding a curve costs one sorted insertion per reported
    step in its span (and a pass over the curves for a step never seen before).
    """

    def __init__(self) -> None:
        self._steps: list[int] = []
        self._values: dict[int, SortedMultiset[float]] = {}
        self._ended: dict[int, SortedMultiset[float]] = {}
        """The last values of the curves that end at each step."""
        self._curves: list[Curve] = []

    def __len__(self) -> int:
        return len(self._curves)

    def add(self, curve: Curve) -> Undo:
        """Add ``curve``; returns a function that removes it again."""
        if len(curve) == 0:
            return _nothing
        new_steps = []
        for step in curve.steps.tolist():
            if step not in self._values:
                at_step = SortedMultiset[float]()
                for other in self._curves:
                    value = other.value_at(step)
                    if value is not None:
                        at_step.insert(value)
                self._values[step] = at_step
                insort(self._steps, step)
                new_steps.append(step)
        low = bisect_left(self._steps, int(curve.steps[0]))
        high = bisect_right(self._steps, curve.last_step)
        added = []
        for step in self._steps[low:high]:
            value = curve.value_at(step)
            assert value is not None
            self._values[step].insert(value)
            added.append((step, value))
        self._curves.append(curve)
        last_value = float(curve.values[-1])
        self._ended.setdefault(curve.last_step, SortedMultiset()).insert(last_value)

        def undo() -> None:
            self._curves.pop()
            ended = self._ended[curve.last_step]
            ended.remove(last_value)
            if not len(ended):
                del self._ended[curve.last_step]
            for step, value in added:
                self._values[step].remove(value)
            for step in new_steps:
                del self._values[step]
                self._steps.remove(step)

        return undo

    def best(self, step: int) -> float | None:
        """The best (smallest) value among the curves at ``step``; ``None`` if none has one."""
        found = self._at(step)
        if found is None:
            return None
        at_step, ended = found
        if ended is None:
            return at_step[0:1][0] if len(at_step) else None
        # The smallest value held by more curves than ended with it.
        for value in at_step[:]:
            if at_step.counts(value).ties > ended.counts(value).ties:
                return value
        return None

    def counts(self, value: float, step: int) -> Counts:
        """Where ``value`` stands among the curves at ``step``."""
        found = self._at(step)
        if found is None:
            return Counts(0, 0, 0)
        at_step, ended = found
        counts = at_step.counts(value)
        if ended is None:
            return counts
        gone = ended.counts(value)
        return Counts(counts.better - gone.better, counts.ties - gone.ties, counts.n - gone.n)

    def _at(self, step: int) -> tuple[SortedMultiset[float], SortedMultiset[float] | None] | None:
        """The values at the nearest reported step at or before ``step``, and, when that step
        is earlier, the values of the curves that ended there (to leave out)."""
        position = bisect_right(self._steps, step) - 1
        if position < 0:
            return None
        nearest = self._steps[position]
        return self._values[nearest], (self._ended.get(nearest) if nearest < step else None)


def standings(values: np.ndarray, steps: np.ndarray, index: StepIndex) -> Standings:
    """Rank ``values[i]`` at ``steps[i]`` among the curves in ``index`` at the same steps."""
    quantile = np.full(len(steps), np.nan)
    is_best = np.ones(len(steps), dtype=bool)
    for i, (value, step) in enumerate(zip(values.tolist(), steps.tolist(), strict=True)):
        counts = index.counts(value, step)
        if counts.n:
            quantile[i] = (counts.better + 0.5 * counts.ties + 0.5) / (counts.n + 1)
            is_best[i] = counts.better == 0
    return Standings(quantile, is_best)


def _nothing() -> None:
    pass
