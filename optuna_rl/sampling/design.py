"""The space-filling design of the start-up trials: a scrambled Sobol' sequence (scipy's QMC)."""

from __future__ import annotations

import threading

import numpy as np


class SobolDesign:
    """Points of one scrambled Sobol' sequence per dimension, by index, cached.

    The trial number is the index, so workers that share a study take different points of the
    same sequence without coordinating.

    Args:
        seed: Seed of the scrambling.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._points: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def point(self, dimension: int, index: int) -> np.ndarray:
        """Point ``index`` of the sequence in ``[0, 1)^dimension``."""
        with self._lock:
            points = self._points.get(dimension)
            if points is None or index >= len(points):
                # Whole powers of two keep the sequence's balance (and scipy quiet); the engine is
                # recreated rather than fast-forwarded so the points never depend on call order.
                # Imported here: scipy.stats costs about a second at import, which every worker
                # process would pay for trials that may never need it.
                from scipy.stats import qmc

                m = max(4, int(np.ceil(np.log2(index + 1))))
                engine = qmc.Sobol(dimension, scramble=True, seed=self._seed)
                points = engine.random_base2(m)
                self._points[dimension] = points
            return points[index].copy()
