"""Whether a search has converged, from its results and its step sizes. Pure numpy and the
sampler's Gaussian process; knows nothing of Optuna.

Three signs, each scale free (:mod:`optuna_rl.terminator` combines them):

- **stagnation**: how many results came since the best value last improved by more than a
  tolerance, relative to the spread of the values (:func:`results_since_improvement`);
- **small steps**: the median length of the last moves (:func:`median_step_size`);
- **little to gain**: the largest expected improvement that a Gaussian process on the ranks of
  the values predicts near the best point, relative to the same spread
  (:func:`expected_gain`).
"""

from __future__ import annotations

import numpy as np

from optuna_rl.sampling.surrogate import RankGP
from optuna_rl.sampling.surrogate import single_threaded_blas


def results_since_improvement(values: np.ndarray, tol: float) -> int:
    """Results since the last one that beat the best value by more than ``tol`` times the
    spread of the values.

    Improvements are measured from the value of the last counted improvement, so that many
    improvements smaller than the threshold add up until together they count. The spread is
    ``median - min`` of the finite values: the room between a typical result and the best one,
    robust to diverged runs.

    Args:
        values: Results in trial-number order, signed so that smaller is better; ``inf`` for a
            result that cannot be the best (a pruned trial), no NaN.
        tol: Fraction of the spread, at least 0.

    Returns:
        The number of results after the last counted improvement (the first finite result
        counts as one); all of them if none is finite.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return int(values.size)
    threshold = tol * float(np.median(finite) - finite.min())
    reference = np.inf
    last = -1
    for position, value in enumerate(values.tolist()):
        if value < reference - threshold:
            reference, last = value, position
    return int(values.size - 1 - last)


def median_step_size(step_sizes: np.ndarray, window: int) -> float:
    """Median of the last ``window`` step sizes (NaN if there are none)."""
    recent = step_sizes[-window:]
    return float(np.median(recent)) if recent.size else float("nan")


def neighbourhood(
    rng: np.random.Generator,
    best: np.ndarray,
    groups: np.ndarray,
    n_numeric: int,
    n_choices: np.ndarray,
    step_size: float,
    n_candidates: int,
) -> np.ndarray:
    """Candidate points around ``best`` in the model's features: numeric coordinates moved by
    Gaussian steps of ``step_size`` (clipped to [0, 1]) and, in half of the candidates, one
    categorical parameter redrawn."""
    candidates = np.repeat(best[None, :], n_candidates, axis=0)
    numeric = candidates[:, :n_numeric] + rng.normal(0.0, step_size, (n_candidates, n_numeric))
    candidates[:, :n_numeric] = np.clip(numeric, 0.0, 1.0)
    if len(n_choices):
        scale = float(best[n_numeric:].max())  # The one-hot value of a chosen category.
        for row in np.flatnonzero(rng.random(n_candidates) < 0.5):
            j = int(rng.integers(len(n_choices)))
            columns = np.flatnonzero(groups == n_numeric + j)
            candidates[row, columns] = 0.0
            candidates[row, columns[rng.integers(len(columns))]] = scale
    return candidates


def expected_gain(
    x: np.ndarray, y: np.ndarray, candidates: np.ndarray, groups: np.ndarray
) -> float:
    """The largest expected improvement at ``candidates`` of a Gaussian process fitted to the
    ranks of ``y`` (:class:`~optuna_rl.sampling.surrogate.RankGP`), over the spread of the
    ranks' normal scores (``median - min``, i.e. ``-min``): the model's guess of what is left to
    gain near the best point, in the units of :func:`results_since_improvement`'s tolerance.

    Args:
        x: Observed points in the model's features, shape ``(n, d)``.
        y: Their values, smaller is better, finite.
        candidates: Points to evaluate, shape ``(m, d)``.
        groups: The parameter of each feature column.
    """
    with single_threaded_blas():
        model = RankGP(x, y, groups)
        gain = float(model.expected_improvement(candidates).max())
    spread = -float(model.z.min())
    return gain / spread if spread > 0.0 else 0.0
