"""The WFG toolkit with 2 (or more) objectives, in numpy.

S. Huband, P. Hingston, L. Barone, L. While, "A review of multiobjective test problems and a
scalable test problem toolkit", IEEE Transactions on Evolutionary Computation 10(5), 2006,
https://doi.org/10.1109/TEVC.2005.861417. Table and equation numbers in the comments are the
paper's. A problem maps z (z_i in [0, 2i]; ``k`` position parameters, then ``l`` distance
parameters) through the transformations of its row of Table XIV to M values t, then to objectives
f_m = x_M + 2m h_m(x_1..x_{M-1}) (eq. 2 with D = 1, S_m = 2m). Every function takes points of
shape ``(..., n)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


def _linear_front(x: np.ndarray) -> np.ndarray:
    """Table I's linear shape: h_1 = prod x_i, h_m = prod_{i <= M-m} x_i (1 - x_{M-m+1})."""
    n_objectives = x.shape[-1] + 1
    columns = []
    for m in range(n_objectives):
        value = np.prod(x[..., : n_objectives - 1 - m], axis=-1)
        if m > 0:
            value = value * (1.0 - x[..., n_objectives - 1 - m])
        columns.append(value)
    return np.stack(columns, axis=-1)


def _correct(y: np.ndarray) -> np.ndarray:
    """Clip rounding errors: every transformation maps [0, 1] into [0, 1]."""
    return np.clip(y, 0.0, 1.0)


def b_poly(y: np.ndarray, alpha: float) -> np.ndarray:
    """Polynomial bias: y^alpha."""
    return _correct(y**alpha)


def b_flat(y: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Flat region bias: value ``a`` for y in [b, c], linear outside."""
    below = np.minimum(0.0, np.floor(y - b)) * a * (b - y) / b
    above = np.minimum(0.0, np.floor(c - y)) * (1.0 - a) * (y - c) / (1.0 - c)
    return _correct(a + below - above)


def b_param(y: np.ndarray, u: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Parameter-dependent bias: y^(b + (c - b) v(u)), v(u) = a - (1 - 2u)|floor(0.5 - u) + a|."""
    v = a - (1.0 - 2.0 * u) * np.abs(np.floor(0.5 - u) + a)
    return _correct(y ** (b + (c - b) * v))


def s_linear(y: np.ndarray, a: float) -> np.ndarray:
    """Linear shift: |y - a| / |floor(a - y) + a|, zero at y = a."""
    return _correct(np.abs(y - a) / np.abs(np.floor(a - y) + a))


def s_decept(y: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Deceptive shift: global minimum at y = a, deceptive minima at the edges."""
    left = np.floor(y - a + b) * (1.0 - c + (a - b) / b) / (a - b)
    right = np.floor(a + b - y) * (1.0 - c + (1.0 - a - b) / b) / (1.0 - a - b)
    return _correct(1.0 + (np.abs(y - a) - b) * (left + right + 1.0 / b))


def s_multi(y: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Multi-modal shift: ``a`` minima, of hill size ``b``, global minimum at y = c."""
    ratio = np.abs(y - c) / (2.0 * (np.floor(c - y) + c))
    return _correct(
        (1.0 + np.cos((4.0 * a + 2.0) * np.pi * (0.5 - ratio)) + 4.0 * b * ratio**2) / (b + 2.0)
    )


def r_sum(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sum reduction over the last axis."""
    return _correct(y @ w / w.sum())


def r_nonsep(y: np.ndarray, a: int) -> np.ndarray:
    """Non-separable reduction with degree ``a`` over the last axis."""
    size = y.shape[-1]
    total = y.sum(axis=-1)
    for j in range(size):
        for k in range(a - 1):
            total = total + np.abs(y[..., j] - y[..., (j + 1 + k) % size])
    half = np.ceil(a / 2.0)
    return _correct(total / (size / a * half * (1.0 + 2.0 * a - 2.0 * half)))


def _concave(x: np.ndarray) -> np.ndarray:
    """Table I: h_1 = prod sin(x_i pi / 2), h_M = cos(x_1 pi / 2) (DTLZ2's sphere, mirrored)."""
    n_objectives = x.shape[-1] + 1
    angles = x * (np.pi / 2.0)
    columns = []
    for m in range(n_objectives):
        value = np.prod(np.sin(angles[..., : n_objectives - 1 - m]), axis=-1)
        if m > 0:
            value = value * np.cos(angles[..., n_objectives - 1 - m])
        columns.append(value)
    return np.stack(columns, axis=-1)


def _convex(x: np.ndarray) -> np.ndarray:
    """Table I: h_1 = prod (1 - cos(x_i pi / 2)), h_M = 1 - sin(x_1 pi / 2)."""
    n_objectives = x.shape[-1] + 1
    angles = x * (np.pi / 2.0)
    columns = []
    for m in range(n_objectives):
        value = np.prod(1.0 - np.cos(angles[..., : n_objectives - 1 - m]), axis=-1)
        if m > 0:
            value = value * (1.0 - np.sin(angles[..., n_objectives - 1 - m]))
        columns.append(value)
    return np.stack(columns, axis=-1)


def _mixed(x1: np.ndarray, alpha: float = 1.0, a: float = 5.0) -> np.ndarray:
    """WFG1's last shape: (1 - x1 - cos(2 a pi x1 + pi / 2) / (2 a pi))^alpha."""
    return (1.0 - x1 - np.cos(2.0 * a * np.pi * x1 + np.pi / 2.0) / (2.0 * a * np.pi)) ** alpha


def _disconnected(
    x1: np.ndarray, alpha: float = 1.0, beta: float = 1.0, a: float = 5.0
) -> np.ndarray:
    """WFG2's last shape: 1 - x1^alpha cos^2(a x1^beta pi)."""
    return 1.0 - x1**alpha * np.cos(a * x1**beta * np.pi) ** 2


class WFGSize(NamedTuple):
    """A WFG instance's sizes: ``k`` position and ``l`` distance parameters, ``m`` objectives."""

    k: int
    l: int  # noqa: E741 (the paper's name)
    m: int


def _position_groups(t: np.ndarray, size: WFGSize) -> list[np.ndarray]:
    """The M - 1 consecutive groups of k / (M - 1) position parameters."""
    width = size.k // (size.m - 1)
    return [t[..., i * width : (i + 1) * width] for i in range(size.m - 1)]


def _uniform_sums(t: np.ndarray, size: WFGSize) -> np.ndarray:
    """r_sum with unit weights of each position group and of the distance parameters."""
    parts = [*_position_groups(t, size), t[..., size.k :]]
    return np.stack([r_sum(p, np.ones(p.shape[-1])) for p in parts], axis=-1)


def _nonsep_sums(t: np.ndarray, size: WFGSize) -> np.ndarray:
    """r_nonsep of each position group (degree k / (M - 1)) and of the distance parameters (l)."""
    groups = _position_groups(t, size)
    parts = [r_nonsep(g, g.shape[-1]) for g in groups] + [r_nonsep(t[..., size.k :], size.l)]
    return np.stack(parts, axis=-1)


def _wfg_objectives(
    t: np.ndarray, shape: Callable[[np.ndarray], np.ndarray], degenerate: bool = False
) -> np.ndarray:
    """Eq. (2): x_i = max(t_M, A_i)(t_i - 0.5) + 0.5, f_m = D x_M + S_m h_m, D = 1, S_m = 2m.

    A = 1 for every problem but WFG3, whose A = (1, 0, ..., 0) makes the front degenerate.
    """
    n_objectives = t.shape[-1]
    a = np.ones(n_objectives - 1)
    if degenerate:
        a[1:] = 0.0
    distance = t[..., -1:]
    position = np.maximum(distance, a) * (t[..., :-1] - 0.5) + 0.5
    scales = 2.0 * np.arange(1, n_objectives + 1)
    return distance + scales * shape(position)


def _wfg_normalise(z: np.ndarray) -> np.ndarray:
    """z_i in [0, 2i] to y_i in [0, 1]."""
    return z / (2.0 * np.arange(1, z.shape[-1] + 1))


def _distance_shift(y: np.ndarray, size: WFGSize) -> np.ndarray:
    """s_linear(y_i, 0.35) on the distance parameters, position parameters unchanged."""
    return np.concatenate([y[..., : size.k], s_linear(y[..., size.k :], 0.35)], axis=-1)


def wfg1(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG1: convex and mixed front, flat bias, polynomial bias on position."""
    y = _distance_shift(_wfg_normalise(z), size)
    y = np.concatenate([y[..., : size.k], b_flat(y[..., size.k :], 0.8, 0.75, 0.85)], axis=-1)
    y = b_poly(y, 0.02)
    weights = 2.0 * np.arange(1, y.shape[-1] + 1)
    width = size.k // (size.m - 1)
    parts = [
        r_sum(y[..., i * width : (i + 1) * width], weights[i * width : (i + 1) * width])
        for i in range(size.m - 1)
    ]
    parts.append(r_sum(y[..., size.k :], weights[size.k :]))
    t = np.stack(parts, axis=-1)

    def shape(x: np.ndarray) -> np.ndarray:
        h = _convex(x)
        h[..., -1] = _mixed(x[..., 0])
        return h

    return _wfg_objectives(t, shape)


def _wfg2_reduction(y: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG2 and WFG3's t2 and t3: pairs of distance parameters by r_nonsep, then r_sum."""
    pairs = [r_nonsep(y[..., i : i + 2], 2) for i in range(size.k, size.k + size.l, 2)]
    y = np.concatenate([y[..., : size.k], np.stack(pairs, axis=-1)], axis=-1)
    return _uniform_sums(y, size)


def wfg2(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG2: convex, disconnected front; non-separable distance parameters."""
    t = _wfg2_reduction(_distance_shift(_wfg_normalise(z), size), size)

    def shape(x: np.ndarray) -> np.ndarray:
        h = _convex(x)
        h[..., -1] = _disconnected(x[..., 0])
        return h

    return _wfg_objectives(t, shape)


def wfg3(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG3: linear, degenerate front (a line in any M); non-separable."""
    t = _wfg2_reduction(_distance_shift(_wfg_normalise(z), size), size)
    return _wfg_objectives(t, _linear_front, degenerate=True)


def wfg4(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG4: concave front; every parameter multi-modal (s_multi 30, 10, 0.35)."""
    y = s_multi(_wfg_normalise(z), 30.0, 10.0, 0.35)
    return _wfg_objectives(_uniform_sums(y, size), _concave)


def wfg5(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG5: concave front; every parameter deceptive (s_decept 0.35, 0.001, 0.05)."""
    y = s_decept(_wfg_normalise(z), 0.35, 0.001, 0.05)
    return _wfg_objectives(_uniform_sums(y, size), _concave)


def wfg6(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG6: concave front; non-separable reductions."""
    y = _distance_shift(_wfg_normalise(z), size)
    return _wfg_objectives(_nonsep_sums(y, size), _concave)


_B_PARAM = (0.98 / 49.98, 0.02, 50.0)


def _mean_of_following(y: np.ndarray) -> np.ndarray:
    """Column i: the mean of y_{i+1}, ..., y_n (the last column is unused)."""
    n = y.shape[-1]
    tail_sums = np.cumsum(y[..., ::-1], axis=-1)[..., ::-1]
    following = np.concatenate([tail_sums[..., 1:], np.zeros_like(y[..., :1])], axis=-1)
    counts = np.maximum(n - 1 - np.arange(n), 1)
    return _correct(following / counts)


def _mean_of_preceding(y: np.ndarray) -> np.ndarray:
    """Column i: the mean of y_1, ..., y_{i-1} (the first column is unused)."""
    head_sums = np.cumsum(y, axis=-1)
    preceding = np.concatenate([np.zeros_like(y[..., :1]), head_sums[..., :-1]], axis=-1)
    counts = np.maximum(np.arange(y.shape[-1]), 1)
    return _correct(preceding / counts)


def wfg7(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG7: concave front; position parameters biased by the mean of the following ones."""
    y = _wfg_normalise(z)
    biased = b_param(y[..., : size.k], _mean_of_following(y)[..., : size.k], *_B_PARAM)
    y = _distance_shift(np.concatenate([biased, y[..., size.k :]], axis=-1), size)
    return _wfg_objectives(_uniform_sums(y, size), _concave)


def wfg8(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG8: concave front; distance parameters biased by the mean of the preceding ones."""
    y = _wfg_normalise(z)
    biased = b_param(y[..., size.k :], _mean_of_preceding(y)[..., size.k :], *_B_PARAM)
    y = _distance_shift(np.concatenate([y[..., : size.k], biased], axis=-1), size)
    return _wfg_objectives(_uniform_sums(y, size), _concave)


def wfg9(z: np.ndarray, size: WFGSize) -> np.ndarray:
    """WFG9: concave front; parameter-dependent bias, deceptive and multi-modal, non-separable."""
    y = _wfg_normalise(z)
    biased = b_param(y[..., :-1], _mean_of_following(y)[..., :-1], *_B_PARAM)
    y = np.concatenate([biased, y[..., -1:]], axis=-1)
    y = np.concatenate(
        [
            s_decept(y[..., : size.k], 0.35, 0.001, 0.05),
            s_multi(y[..., size.k :], 30.0, 95.0, 0.35),
        ],
        axis=-1,
    )
    return _wfg_objectives(_nonsep_sums(y, size), _concave)


WFG_FUNCTIONS = {
    "WFG1": wfg1,
    "WFG2": wfg2,
    "WFG3": wfg3,
    "WFG4": wfg4,
    "WFG5": wfg5,
    "WFG6": wfg6,
    "WFG7": wfg7,
    "WFG8": wfg8,
    "WFG9": wfg9,
}


def wfg_optimal_point(name: str, position: np.ndarray, size: WFGSize) -> np.ndarray:
    """A Pareto-optimal z from position parameters ``position`` (in [0, 1], shape ``(k,)``).

    Section VIII of the paper: the distance parameters are z_i = 2i * 0.35 for WFG1-7; for WFG8
    and WFG9 they are the values that make each biased parameter 0.35, found in order (WFG8:
    forwards, each from the mean of the preceding ones; WFG9: backwards from z_n = 2n * 0.35,
    each from the mean of the following ones).

    In floating point, WFG1's front is reached only where every z_i / (2i) rounds to 0.35
    exactly: its polynomial bias y^0.02 turns a distance of 1e-16 into 0.48. With n = 24 that
    fails for i = 6, 12 and 24, so its optimal points sit a little off the front; they are exact
    for i = 5 and 7..11.
    """
    y = np.concatenate([np.asarray(position, dtype=float), np.full(size.l, 0.35)])
    a, b, c = _B_PARAM
    if name == "WFG8":
        for i in range(size.k, size.k + size.l):
            u = y[:i].mean()
            y[i] = 0.35 ** (1.0 / (b + (c - b) * (a - (1 - 2 * u) * abs(np.floor(0.5 - u) + a))))
    elif name == "WFG9":
        for i in range(size.k + size.l - 2, size.k - 1, -1):
            u = y[i + 1 :].mean()
            y[i] = 0.35 ** (1.0 / (b + (c - b) * (a - (1 - 2 * u) * abs(np.floor(0.5 - u) + a))))
    return y * 2.0 * np.arange(1, len(y) + 1)
