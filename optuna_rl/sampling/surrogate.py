"""The Gaussian process of the model-guided move, on the ranks of the values. Pure numpy/scipy.

The values are replaced by normal scores of their ranks (a Gaussian copula), so the model is
the same for any monotone transformation of the objective, as the rewards are; the kernel is
Matérn 5/2 with one length scale chosen by marginal likelihood from a short grid.

Mixed spaces are modelled on :func:`features`: the numeric coordinates, then each categorical
parameter one-hot encoded and scaled by ``1/sqrt(2)``, so that two different choices are as far
apart as the two ends of a numeric range.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np
from scipy.linalg import cho_factor
from scipy.linalg import cho_solve
from scipy.special import ndtr
from scipy.special import ndtri
from threadpoolctl import ThreadpoolController

from optuna_rl.core.ranking import average_ranks


NOISE = 1e-4
"""Noise variance added to the kernel's diagonal, relative to the unit prior variance of the
normal scores: a jitter that keeps the Cholesky factorisation stable, not a noise model."""
LENGTH_SCALES = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Candidate shared length scales, multiplied by sqrt(number of parameters) (distances grow
with it): from a twentieth of the range (sharp, local structure) to most of it (smooth)."""
ARD_FACTORS = (0.25, 4.0)
"""Multiples of one parameter's length scale tried in the relevance pass: a parameter that
matters 4 times more or less than the others."""


_BLAS = ThreadpoolController()


def features(numeric: np.ndarray, categorical: np.ndarray, n_choices: np.ndarray) -> np.ndarray:
    """The model's inputs for points given as rows of ``numeric`` (in [0, 1]) and
    ``categorical`` (choice indices): numeric columns, then the scaled one-hot blocks."""
    blocks = [np.asarray(numeric, dtype=np.float64)]
    for j, n in enumerate(n_choices.tolist()):
        one_hot = np.zeros((len(categorical), n))
        one_hot[np.arange(len(categorical)), categorical[:, j]] = _ONE_HOT_SCALE
        blocks.append(one_hot)
    return np.hstack(blocks)


def feature_groups(n_numeric: int, n_choices: np.ndarray) -> np.ndarray:
    """The parameter each column of :func:`features` belongs to (numeric ones first)."""
    categorical = np.repeat(np.arange(len(n_choices)), n_choices) + n_numeric
    return np.concatenate([np.arange(n_numeric), categorical]).astype(np.int64)


_ONE_HOT_SCALE = float(np.sqrt(0.5))


def single_threaded_blas() -> Any:
    """A context in which BLAS uses one thread, when that throttles nobody else.

    The matrices here are small (a few hundred rows at most), where BLAS threads cost more than
    they give: a model of 120 points took 15 ms with one thread and 27 ms with two on an idle
    2-core machine, 33 and 68 ms on a loaded one. But the limit is process-wide, so it is set only
    when no other thread could be running the user's code: with ``n_jobs > 1`` (Optuna's worker
    threads) or any other non-daemon thread alive, BLAS is left as the user configured it.
    """
    current, main = threading.current_thread(), threading.main_thread()
    others = [t for t in threading.enumerate() if t not in (current, main) and not t.daemon]
    if others:
        return contextlib.nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Normal quantiles of the ranks, ``Phi^-1((rank - 1/2) / n)``; ties share a rank."""
    return ndtri((average_ranks(values) - 0.5) / len(values))


def _matern52(distance: np.ndarray) -> np.ndarray:
    r = np.sqrt(5.0) * distance
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


class RankGP:
    """A zero-mean GP on the normal scores of the values' ranks, fitted at construction.

    The length scales are fitted by marginal likelihood in two cheap stages: one shared scale
    from a short grid, then one pass over the dimensions trying a few multiples of each (a
    coarse automatic relevance determination, which ill-conditioned objectives need).

    Args:
        x: Observed points, shape ``(n, d)``, in [0, 1] (see :func:`features`).
        y: Observed values, shape ``(n,)``; smaller is better; any scale.
        groups: The parameter each column belongs to (see :func:`feature_groups`); a
            parameter's columns share one length scale. By default each column is a parameter.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> None:
        self.z = normal_scores(y)
        if groups is None:
            groups = np.arange(x.shape[1])
        n_params = int(groups.max()) + 1 if len(groups) else 0
        best = None
        for length_scale in LENGTH_SCALES:
            fit = self._fit(x, np.full(x.shape[1], length_scale * np.sqrt(n_params)))
            if best is None or fit[0] > best[0]:
                best = fit
        assert best is not None
        for j in range(n_params):
            for factor in ARD_FACTORS:
                scales = best[1].copy()
                scales[groups == j] *= factor
                fit = self._fit(x, scales)
                if fit[0] > best[0]:
                    best = fit
        _, self.length_scales, self._factor, self._alpha = best
        self.x = x / self.length_scales

    def _fit(
        self, x: np.ndarray, length_scales: np.ndarray
    ) -> tuple[float, np.ndarray, tuple[np.ndarray, bool], np.ndarray]:
        scaled = x / length_scales
        gram = _matern52(_distances(scaled, scaled)) + NOISE * np.eye(len(x))
        factor = cho_factor(gram, lower=True)
        alpha = cho_solve(factor, self.z)
        # Log marginal likelihood up to a constant (Rasmussen & Williams, 2006, eq. 2.30).
        fit = float(-0.5 * self.z @ alpha - np.log(np.diag(factor[0])).sum())
        return fit, length_scales, factor, alpha

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``points`` (R & W, eq. 2.25-2.26)."""
        cross = _matern52(_distances(points / self.length_scales, self.x))
        mean = cross @ self._alpha
        v = cho_solve(self._factor, cross.T)
        variance = np.maximum(1.0 - (cross * v.T).sum(1), 1e-12)
        return mean, np.sqrt(variance)

    def expected_improvement(self, points: np.ndarray) -> np.ndarray:
        """Expected improvement below the best observed score (Jones et al., 1998)."""
        mean, std = self.predict(points)
        gap = self.z.min() - mean
        u = gap / std
        return gap * ndtr(u) + std * np.exp(-0.5 * u * u) / np.sqrt(2.0 * np.pi)
