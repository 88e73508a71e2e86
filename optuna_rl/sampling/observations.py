"""The completed trials in the normalised space: the model-guided move's data, and the check
that a proposal does not repeat a configuration a trial has already completed."""

from __future__ import annotations

from bisect import bisect_left
import math
import threading

import numpy as np

from optuna_rl.sampling.space import Point
from optuna_rl.sampling.space import point_key
from optuna_rl.sampling.surrogate import features


MIN_NEIGHBOURS = 120
NEIGHBOURS_PER_DIM = 8
"""The model-guided move fits the completed trials nearest to its anchor: this many per
parameter, at least :data:`MIN_NEIGHBOURS` (so in a study of up to 120 trials, all of them). A
Gaussian process on a few hundred points costs milliseconds, and its cost stays bounded however
long the study runs."""


class Observations:
    """The completed trials of one search space, kept in trial-number order (so that the model
    is the same whichever order the trials finished in). Thread-safe: a worker thread may read
    while another adds.

    Args:
        n_choices: Number of choices of each categorical parameter.
    """

    def __init__(self, n_choices: np.ndarray) -> None:
        self._n_choices = n_choices
        self._numbers: list[int] = []
        self._rows: list[np.ndarray] = []
        self._values: list[float] = []
        self._keys: set[bytes] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._numbers)

    def add(self, number: int, point: Point, value: float) -> None:
        """Add completed trial ``number`` at ``point`` with signed ``value`` (smaller is
        better). A non-finite value counts as evaluated but is not modelled."""
        self._keys.add(point_key(point))
        if not math.isfinite(value):
            return
        row = features(point.numeric[None, :], point.categorical[None, :], self._n_choices)[0]
        with self._lock:
            position = bisect_left(self._numbers, number)
            self._numbers.insert(position, number)
            self._rows.insert(position, row)
            self._values.insert(position, value)

    def evaluated(self, point: Point) -> bool:
        """Whether a completed trial evaluated exactly this (snapped) point."""
        return point_key(point) in self._keys

    def nearest(self, centre: Point) -> tuple[np.ndarray, np.ndarray]:
        """The modelled trials nearest to ``centre``: their features and signed values."""
        n_features = len(centre.numeric) + int(self._n_choices.sum())
        with self._lock:
            if not self._rows:
                return np.zeros((0, n_features)), np.zeros(0)
            x_all, y_all = np.array(self._rows), np.array(self._values)
        n_params = len(centre.numeric) + len(self._n_choices)
        n_near = min(len(y_all), max(MIN_NEIGHBOURS, NEIGHBOURS_PER_DIM * n_params))
        centre_row = features(
            centre.numeric[None, :], centre.categorical[None, :], self._n_choices
        )[0]
        nearest = np.argsort(((x_all - centre_row) ** 2).sum(1), kind="stable")[:n_near]
        return x_all[nearest], y_all[nearest]
