"""Parametric learning-curve families for the pruning corpus (``benchmarks/pruning_corpus.py``).

They add breadth where real runs are few: shapes drawn with random parameters, each with
autocorrelated noise. A family has a ``sample_*`` function (the configurations: the shape's
parameters, stored with the curves) and a ``curve_*`` function (one configuration's curve,
its noise seeded). Time is measured as the fraction of the run ``u = t / horizon`` for
``t = 1..horizon``, so a family keeps its shapes at any horizon.

- ``power_law`` (a loss, minimised): ``c + a (1 + u / u0) ** -alpha``, where the onset
  ``u0`` grows as the floor ``c`` falls (``u0 = U(0.01, 0.1) * 10 ** (1.5 (1 - c))``): low
  floors are reached slowly, as by small learning rates or large models, so fast starters with
  a high floor cross slow ones with a low floor. Still the family where early ranks mislead
  least.
- ``saturation`` (an accuracy, maximised): ``top - (top - start) exp(-u / tau)``, with ``tau``
  up to three runs long: too slow to saturate.
- ``late_bloomers`` (an accuracy): logistic rises whose midpoint ``m`` may come after the
  run; later risers end slightly higher on average (``top`` grows by ``0.08 m``), the case a
  myopic pruner gets wrong.
- ``lr_sweep`` (a loss): one latent log learning rate ``x`` in [0, 1] sets the speed (faster
  with ``x``), the floor (U-shaped in ``x`` around a per-configuration optimum) and the noise;
  beyond a threshold near the top of the range a run diverges at a random time.
- ``diverging`` (a loss): power-law descents of which 40 % blow up at a random time and either
  overflow (NaN, as the trainer would report) or stall at the loss of a uniform guess (or at
  the starting loss if that is higher), and
  15 % have a transient spike they recover from.
- ``noisy_plateau`` (an accuracy, 10 steps): every configuration plateaus within a few points
  of the others and the noise is as large as the differences: early ranks are mostly noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pruning_curves import _log_uniform


Space = dict[str, np.ndarray]

OVERFLOW = 1e6
"""A diverging synthetic loss that passes this many times its start is reported as NaN."""
UNIFORM_GUESS_LOSS = float(np.log(10.0))
"""Cross-entropy of a uniform guess over 10 classes: where a stalled divergence sits."""


def _steps(horizon: int) -> np.ndarray:
    return np.arange(1, horizon + 1) / horizon


def _noise(rng: np.random.Generator, horizon: int, sigma: float, phi: float) -> np.ndarray:
    """AR(1) noise of stationary standard deviation ``sigma`` and lag-one correlation ``phi``."""
    shocks = rng.standard_normal(horizon) * sigma * np.sqrt(1.0 - phi**2)
    noise = np.empty(horizon)
    noise[0] = rng.standard_normal() * sigma
    for t in range(1, horizon):
        noise[t] = phi * noise[t - 1] + shocks[t]
    return noise


def _noise_space(rng: np.random.Generator, n: int, low: float, high: float) -> Space:
    return {"noise": _log_uniform(rng, low, high, n), "noise_correlation": rng.uniform(0, 0.8, n)}


def sample_power_law(rng: np.random.Generator, n: int) -> Space:
    floor = rng.uniform(0.05, 1.0, n)
    return {
        "floor": floor,
        "amplitude": _log_uniform(rng, 1.0, 3.0, n),
        "exponent": rng.uniform(0.5, 2.5, n),
        "onset": _log_uniform(rng, 0.01, 0.1, n) * 10.0 ** (1.5 * (1.0 - floor)),
        **_noise_space(rng, n, 0.002, 0.05),
    }


def _power_law(params: dict[str, Any], u: np.ndarray) -> np.ndarray:
    decay = (1.0 + u / params["onset"]) ** -params["exponent"]
    return params["floor"] + params["amplitude"] * decay


def curve_power_law(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    """Multiplicative noise: a loss's noise scales with the loss."""
    rng = np.random.default_rng(seed)
    noise = _noise(rng, horizon, params["noise"], params["noise_correlation"])
    return _power_law(params, _steps(horizon)) * np.exp(noise)


def sample_saturation(rng: np.random.Generator, n: int) -> Space:
    return {
        "start": rng.uniform(0.0, 0.4, n),
        "top": rng.uniform(0.5, 0.98, n),
        "tau": _log_uniform(rng, 0.02, 3.0, n),
        **_noise_space(rng, n, 0.002, 0.03),
    }


def curve_saturation(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top, start = params["top"], params["start"]
    mean = top - (top - start) * np.exp(-_steps(horizon) / params["tau"])
    noise = _noise(rng, horizon, params["noise"], params["noise_correlation"])
    return np.clip(mean + noise, 0.0, 1.0)


def sample_late_bloomers(rng: np.random.Generator, n: int) -> Space:
    midpoint = rng.uniform(-0.2, 1.1, n)
    return {
        "start": rng.uniform(0.05, 0.2, n),
        "top": np.minimum(rng.uniform(0.5, 0.9, n) + 0.08 * midpoint, 0.99),
        "midpoint": midpoint,
        "width": _log_uniform(rng, 0.02, 0.3, n),
        **_noise_space(rng, n, 0.002, 0.03),
    }


def curve_late_bloomers(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rise = 1.0 / (1.0 + np.exp(-(_steps(horizon) - params["midpoint"]) / params["width"]))
    mean = params["start"] + (params["top"] - params["start"]) * rise
    noise = _noise(rng, horizon, params["noise"], params["noise_correlation"])
    return np.clip(mean + noise, 0.0, 1.0)


def sample_lr_sweep(rng: np.random.Generator, n: int) -> Space:
    return {
        "log_lr": rng.uniform(0.0, 1.0, n),
        "best_log_lr": rng.uniform(0.45, 0.75, n),
        "diverge_above": rng.uniform(0.8, 1.0, n),
        "floor": rng.uniform(0.1, 0.3, n),
    }


def curve_lr_sweep(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    """Start at 2.3 (a uniform guess); time constant ``10 ** (1.5 - 3 x)`` runs, from 30 runs
    (flat) to 0.03; floor ``floor + 3 (x - best) ** 2``; noise 0.005-0.1, growing with ``x``."""
    rng = np.random.default_rng(seed)
    x = params["log_lr"]
    u = _steps(horizon)
    floor = params["floor"] + 3.0 * (x - params["best_log_lr"]) ** 2
    tau = 10.0 ** (1.5 - 3.0 * x)
    curve = floor + (UNIFORM_GUESS_LOSS - floor) * np.exp(-u / tau)
    curve *= np.exp(_noise(rng, horizon, 0.005 + 0.095 * x**2, 0.5))
    if x > params["diverge_above"]:
        onset = rng.uniform(0.0, 1.0)
        curve *= np.exp(np.maximum(u - onset, 0.0) * horizon * rng.uniform(0.3, 3.0))
        curve[curve > OVERFLOW * UNIFORM_GUESS_LOSS] = np.nan
    return curve


def sample_diverging(rng: np.random.Generator, n: int) -> Space:
    fate = rng.random(n)
    return {
        **sample_power_law(rng, n),
        "blows_up": fate < 0.4,
        "spikes": (fate >= 0.4) & (fate < 0.55),
        "event_time": rng.uniform(0.0, 1.0, n),
        "event_rate": _log_uniform(rng, 0.1, 3.0, n),
        "stalls": rng.random(n) < 0.5,
    }


def curve_diverging(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    """After ``event_time``, a blow-up grows by ``exp(event_rate)`` per step; a spike adds
    ``2 exp(-(t - t_event) event_rate)`` times the loss and decays."""
    curve = curve_power_law(params, seed, horizon)
    after = np.maximum(_steps(horizon) - params["event_time"], 0.0) * horizon
    started = after > 0
    if params["blows_up"]:
        blown = curve * np.exp(after * params["event_rate"])
        if params["stalls"]:
            blown = np.minimum(blown, max(UNIFORM_GUESS_LOSS, curve[0]))
        else:
            blown[blown > OVERFLOW * curve[0]] = np.nan
        curve = np.where(started, blown, curve)
    elif params["spikes"]:
        curve = curve * (1.0 + 2.0 * started * np.exp(-after * params["event_rate"]))
    return curve


def sample_noisy_plateau(rng: np.random.Generator, n: int) -> Space:
    return {
        "plateau": rng.normal(0.85, 0.015, n),
        "gap": rng.uniform(0.02, 0.2, n),
        "tau": _log_uniform(rng, 0.05, 0.5, n),
        **_noise_space(rng, n, 0.005, 0.03),
    }


def curve_noisy_plateau(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = params["plateau"] - params["gap"] * np.exp(-_steps(horizon) / params["tau"])
    noise = _noise(rng, horizon, params["noise"], params["noise_correlation"])
    return np.clip(mean + noise, 0.0, 1.0)
