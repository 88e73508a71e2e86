"""Random synthetic problems for training RLSampler's prior offline, none of them a benchmark
the sampler is judged on (BBOB, the HPO tables).

A problem is drawn from its seed alone: a family, a dimension, the kind of each parameter
(float, int, log, step, categorical), an optional noise and a monotone transform of the value,
and a trial budget. The families cover what hyperparameter searches meet: smooth bowls, narrow
valleys, many local optima, plateaus (quantised metrics), a few parameters that matter among many
that barely do, non-smooth slopes, and noise. :data:`VALIDATION_FAMILIES` are never trained on;
the other families' validation problems have seeds from :data:`VALIDATION_SEED` on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import optuna


TRAINING_FAMILIES = ("ellipsoid", "bumps", "waves", "banana", "abs", "slope", "few_matter")
VALIDATION_FAMILIES = ("plateaus", "ridge")
"""Families held out of training entirely: the prior is validated on kinds of problem it never
saw."""
VALIDATION_SEED = 1_000_000
"""Problem seeds from here on are validation problems."""

BUDGETS = (50, 100, 100, 150, 200, 300, 1000)
"""Trial budgets, drawn uniformly (so 1,000-trial studies are one in seven)."""
DIMENSIONS = (1, 2, 3, 5, 8, 10, 15, 20)


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def make_function(rng: np.random.Generator, d: int, family: str) -> Callable[[np.ndarray], float]:
    """A random function of ``family`` on [0, 1]^d, minimised, without noise."""
    optimum = rng.uniform(0.1, 0.9, d)
    rotation = _rotation(rng, d) if rng.random() < 0.7 else np.eye(d)
    scales = 10.0 ** (rng.uniform(0, 4) * np.linspace(0, 1, d))

    def z(x: np.ndarray) -> np.ndarray:
        return rotation @ (x - optimum)

    if family == "ellipsoid":
        return lambda x: float(scales @ z(x) ** 2)
    if family == "bumps":
        k = int(rng.integers(3, 40))
        centres = rng.random((k, d))
        centres[0] = optimum
        heights = np.concatenate([[1.0], rng.uniform(0.2, 0.95, k - 1)])
        widths = rng.uniform(0.03, 0.3, k) * np.sqrt(d)

        def bumps(x: np.ndarray) -> float:
            dist = ((centres - x) ** 2).sum(1)
            return float(-np.max(heights * np.exp(-dist / (2 * widths**2))))

        return bumps
    if family == "waves":
        amplitude, frequency = rng.uniform(0.5, 10), rng.uniform(2, 8)
        return lambda x: float(
            (z(x) ** 2).sum() * 100 + amplitude * (1 - np.cos(2 * np.pi * frequency * z(x))).sum()
        )
    if family == "banana":

        def banana(x: np.ndarray) -> float:
            y = 4 * z(x) + 1
            return float((100 * (y[1:] - y[:-1] ** 2) ** 2 + (1 - y[:-1]) ** 2).sum() + y[0] ** 2)

        return banana
    if family == "abs":
        return lambda x: float(np.sqrt(scales) @ np.abs(z(x)))
    if family == "slope":
        direction = rng.standard_normal(d)
        return lambda x: float(direction @ x)
    if family == "few_matter":
        # Most parameters barely matter, as in most hyperparameter searches.
        weights = np.where(rng.random(d) < min(1.0, 2.5 / d), 1.0, 1e-3)
        return lambda x: float(
            weights @ ((x - optimum) ** 2) + 0.1 * (weights @ np.abs(x - optimum))
        )
    if family == "plateaus":
        levels = int(rng.integers(5, 30))
        return lambda x: float(np.floor(levels * np.sqrt(scales @ z(x) ** 2 / scales.sum())))
    if family == "ridge":
        # A narrow curved valley in a flat landscape.
        width = rng.uniform(0.01, 0.1)

        def ridge(x: np.ndarray) -> float:
            y = z(x)
            valley = ((y[1:] - y[:-1] ** 2) ** 2).sum() if d > 1 else y[0] ** 2
            return float(1.0 - np.exp(-valley / width**2) + 0.1 * (y**2).sum())

        return ridge
    raise ValueError(f"unknown family {family!r}")


@dataclass(frozen=True)
class Problem:
    """One synthetic study: an objective over a mixed search space, and its trial budget."""

    seed: int
    family: str
    dimension: int
    n_trials: int
    objective: Callable[[optuna.Trial], float]


def problem(seed: int) -> Problem:
    """The problem of ``seed`` (a validation problem from :data:`VALIDATION_SEED` on, a quarter
    of them from :data:`VALIDATION_FAMILIES`)."""
    rng = np.random.default_rng(seed)
    validation = seed >= VALIDATION_SEED
    if validation and rng.random() < 0.25:
        family = str(rng.choice(VALIDATION_FAMILIES))
    else:
        family = str(rng.choice(TRAINING_FAMILIES))
    d = int(rng.choice(DIMENSIONS))
    f = make_function(rng, d, family)
    kinds = rng.choice(["float", "float", "float", "int", "log", "step"], size=d)
    n_categorical = int(rng.choice([0, 0, 0, 1, 2, 4]))
    n_choices = rng.integers(2, 6, size=n_categorical)
    offsets = [rng.uniform(0, 1, n) for n in n_choices]
    noise = float(rng.choice([0.0, 0.0, 0.01, 0.1]))
    power = float(rng.choice([0.5, 1.0, 2.0]))
    noise_rng = np.random.default_rng(seed + 7)

    def objective(trial: optuna.Trial) -> float:
        x = np.empty(d)
        for i, kind in enumerate(kinds):
            if kind == "int":
                x[i] = trial.suggest_int(f"x{i}", 0, 20) / 20
            elif kind == "log":
                x[i] = np.log10(trial.suggest_float(f"x{i}", 1e-3, 1.0, log=True)) / 3 + 1
            elif kind == "step":
                x[i] = trial.suggest_float(f"x{i}", 0.0, 1.0, step=0.05)
            else:
                x[i] = trial.suggest_float(f"x{i}", 0.0, 1.0)
        penalty = sum(
            offsets[j][trial.suggest_categorical(f"c{j}", list(range(int(n))))]
            for j, n in enumerate(n_choices)
        )
        value = f(x)
        value = float(np.sign(value) * abs(value) ** power)
        value += penalty * (1.0 + abs(value))
        return value * (1.0 + noise * float(noise_rng.standard_normal()))

    n_trials = int(rng.choice(BUDGETS))
    return Problem(seed, family, d, n_trials, objective)
