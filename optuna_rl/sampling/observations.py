"""The completed trials in the normalised space: the model-guided move's data, and the check
that a proposal does not repeat a configuration a trial has already completed."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
import threading
from typing import Any

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
        self._keys: list[Any] = []
        self._evaluated: set[bytes] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._numbers)

    def add(self, number: int, point: Point, key: Any, finite: bool) -> None:
        """Add completed trial ``number`` at ``point``, ranked by ``key`` (see
        :mod:`optuna_rl.sampling.rankings`). A result with a non-finite value counts as
        evaluated but is not modelled."""
        self._evaluated.add(point_key(point))
        if not finite:
            return
        row = features(point.numeric[None, :], point.categorical[None, :], self._n_choices)[0]
        with self._lock:
            position = bisect_left(self._numbers, number)
            self._numbers.insert(position, number)
            self._rows.insert(position, row)
            self._keys.insert(position, key)

    def evaluated(self, point: Point) -> bool:
        """Whether a completed trial evaluated exactly this (snapped) point."""
        return point_key(point) in self._evaluated

    def scored(self, score: Callable[[list[Any]], np.ndarray]) -> ScoredObservations:
        """A view whose :meth:`~ScoredObservations.nearest` gives the model's targets as
        ``score`` (keys to numbers, smaller better) orders the results."""
        return ScoredObservations(self, score)

    def nearest(self, centre: Point) -> tuple[np.ndarray, list[Any]]:
        """The modelled trials nearest to ``centre``: their features and keys."""
        n_features = len(centre.numeric) + int(self._n_choices.sum())
        with self._lock:
            if not self._rows:
                return np.zeros((0, n_features)), []
            x_all, keys = np.array(self._rows), list(self._keys)
        n_params = len(centre.numeric) + len(self._n_choices)
        n_near = min(len(keys), max(MIN_NEIGHBOURS, NEIGHBOURS_PER_DIM * n_params))
        centre_row = features(
            centre.numeric[None, :], centre.categorical[None, :], self._n_choices
        )[0]
        nearest = np.argsort(((x_all - centre_row) ** 2).sum(1), kind="stable")[:n_near]
        return x_all[nearest], [keys[i] for i in nearest]


class ScoredObservations:
    """:class:`Observations` with the model's targets: what the policy reads."""

    def __init__(self, observations: Observations, score: Callable[[list[Any]], np.ndarray]):
        self._observations = observations
        self._score = score

    def evaluated(self, point: Point) -> bool:
        return self._observations.evaluated(point)

    def nearest(self, centre: Point) -> tuple[np.ndarray, np.ndarray]:
        """The modelled trials nearest to ``centre``: their features and scores (smaller is
        better; the model uses only their order)."""
        x, keys = self._observations.nearest(centre)
        return x, self._score(keys) if keys else np.zeros(0)
