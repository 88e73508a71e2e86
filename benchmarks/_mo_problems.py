"""Multi-objective test problems defined by formulas: ZDT, DTLZ and WFG, in numpy.

Every function takes points of shape ``(..., n)`` (``n`` decision variables) and returns their
objective vectors, shape ``(..., M)``, all to be minimised. :data:`PROBLEMS` lists the instances
``mo.py`` runs, each with its box and the ideal and nadir points of its Pareto front (the fixed
bounds that make hypervolumes comparable across samplers).

- ZDT1-4 and ZDT6, 2 objectives: E. Zitzler, K. Deb, L. Thiele, "Comparison of multiobjective
  evolutionary algorithms: empirical results", Evolutionary Computation 8(2), 2000,
  https://doi.org/10.1162/106365600568202. Sizes as there: n = 30 (ZDT1-3), 10 (ZDT4, ZDT6).
- DTLZ1-4 and DTLZ7 with M = 3 objectives: K. Deb, L. Thiele, M. Laumanns, E. Zitzler,
  "Scalable test problems for evolutionary multiobjective optimization", in Evolutionary
  Multiobjective Optimization, Springer, 2005, https://doi.org/10.1007/1-84628-137-7_6. n = M + k
  - 1 with k = 5 (DTLZ1), 10 (DTLZ2-4), 20 (DTLZ7); alpha = 100 in DTLZ4.
- WFG1-9 with M = 2 (the toolkit is in ``_wfg.py``): k = 4 position and l = 20 distance
  parameters (n = 24), z_i in [0, 2i], as in Huband et al.'s experiments.

The functions agree with pymoo 0.6.1.5's ZDT, DTLZ and WFG problems to 1e-13 on random points and
at Pareto-optimal points (checked once; pymoo is not a dependency).
"""

from __future__ import annotations

from collections.abc import Callable
import functools
from typing import NamedTuple

from _wfg import WFG_FUNCTIONS
from _wfg import WFGSize
import numpy as np


Objectives = Callable[[np.ndarray], np.ndarray]


class FormulaProblem(NamedTuple):
    """A multi-objective problem with a known Pareto front.

    Attributes:
        name: e.g. ``"ZDT1"``.
        family: ``"zdt"``, ``"dtlz"`` or ``"wfg"``.
        evaluate: Points ``(..., n)`` to objective vectors ``(..., M)``.
        lower: Lower bounds of the box, shape ``(n,)``.
        upper: Upper bounds, shape ``(n,)``.
        ideal: The front's componentwise minimum, shape ``(M,)``.
        nadir: The front's componentwise maximum, shape ``(M,)``.
    """

    name: str
    family: str
    evaluate: Objectives
    lower: np.ndarray
    upper: np.ndarray
    ideal: np.ndarray
    nadir: np.ndarray

    @property
    def dim(self) -> int:
        """Number of decision variables."""
        return len(self.lower)

    @property
    def n_objectives(self) -> int:
        """Number of objectives."""
        return len(self.ideal)


# ZDT ------------------------------------------------------------------------------------------


def _zdt(x: np.ndarray, g: np.ndarray, h: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    f1 = x[..., 0]
    return np.stack([f1, g * h(f1 / g)], axis=-1)


def zdt1(x: np.ndarray) -> np.ndarray:
    """ZDT1: convex front f2 = 1 - sqrt(f1) where x[1:] = 0."""
    g = 1.0 + 9.0 * x[..., 1:].mean(axis=-1)
    return _zdt(x, g, lambda r: 1.0 - np.sqrt(r))


def zdt2(x: np.ndarray) -> np.ndarray:
    """ZDT2: concave front f2 = 1 - f1^2 where x[1:] = 0."""
    g = 1.0 + 9.0 * x[..., 1:].mean(axis=-1)
    return _zdt(x, g, lambda r: 1.0 - r**2)


def zdt3(x: np.ndarray) -> np.ndarray:
    """ZDT3: disconnected front, non-dominated parts of f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)."""
    g = 1.0 + 9.0 * x[..., 1:].mean(axis=-1)
    f1 = x[..., 0]
    return _zdt(x, g, lambda r: 1.0 - np.sqrt(r) - r * np.sin(10.0 * np.pi * f1))


def zdt4(x: np.ndarray) -> np.ndarray:
    """ZDT4: ZDT1's front behind 21^9 local fronts (Rastrigin-like g), x[1:] in [-5, 5]."""
    rest = x[..., 1:]
    g = 1.0 + 10.0 * rest.shape[-1] + np.sum(rest**2 - 10.0 * np.cos(4.0 * np.pi * rest), axis=-1)
    return _zdt(x, g, lambda r: 1.0 - np.sqrt(r))


def zdt6(x: np.ndarray) -> np.ndarray:
    """ZDT6: non-uniform concave front f2 = 1 - f1^2, f1 >= 0.2808, where x[1:] = 0."""
    x1 = x[..., 0]
    f1 = 1.0 - np.exp(-4.0 * x1) * np.sin(6.0 * np.pi * x1) ** 6
    g = 1.0 + 9.0 * x[..., 1:].mean(axis=-1) ** 0.25
    return np.stack([f1, g * (1.0 - (f1 / g) ** 2)], axis=-1)


# DTLZ -----------------------------------------------------------------------------------------


def _g_rastrigin(xm: np.ndarray) -> np.ndarray:
    """DTLZ1 and DTLZ3's g: 100 (k + sum((x - 0.5)^2 - cos(20 pi (x - 0.5))))."""
    shifted = xm - 0.5
    return 100.0 * (xm.shape[-1] + np.sum(shifted**2 - np.cos(20.0 * np.pi * shifted), axis=-1))


def _g_sphere(xm: np.ndarray) -> np.ndarray:
    return np.sum((xm - 0.5) ** 2, axis=-1)


def _linear_front(position: np.ndarray) -> np.ndarray:
    """f_m / (1 + g) of DTLZ1 without its 0.5: prod of x_1..x_{M-m} times (1 - x_{M-m+1})."""
    n_objectives = position.shape[-1] + 1
    columns = []
    for m in range(n_objectives):
        value = np.prod(position[..., : n_objectives - 1 - m], axis=-1)
        if m > 0:
            value = value * (1.0 - position[..., n_objectives - 1 - m])
        columns.append(value)
    return np.stack(columns, axis=-1)


def _spherical_front(position: np.ndarray) -> np.ndarray:
    """f_m / (1 + g) of DTLZ2: products of cosines and one sine of x pi / 2."""
    n_objectives = position.shape[-1] + 1
    angles = position * (np.pi / 2.0)
    columns = []
    for m in range(n_objectives):
        value = np.prod(np.cos(angles[..., : n_objectives - 1 - m]), axis=-1)
        if m > 0:
            value = value * np.sin(angles[..., n_objectives - 1 - m])
        columns.append(value)
    return np.stack(columns, axis=-1)


def dtlz1(x: np.ndarray, n_objectives: int = 3) -> np.ndarray:
    """DTLZ1: linear front sum(f) = 0.5 where the last k variables are 0.5."""
    position, distance = x[..., : n_objectives - 1], x[..., n_objectives - 1 :]
    return 0.5 * (1.0 + _g_rastrigin(distance))[..., None] * _linear_front(position)


def dtlz2(x: np.ndarray, n_objectives: int = 3) -> np.ndarray:
    """DTLZ2: the positive unit sphere where the last k variables are 0.5."""
    position, distance = x[..., : n_objectives - 1], x[..., n_objectives - 1 :]
    return (1.0 + _g_sphere(distance))[..., None] * _spherical_front(position)


def dtlz3(x: np.ndarray, n_objectives: int = 3) -> np.ndarray:
    """DTLZ3: DTLZ2's sphere behind DTLZ1's multimodal g."""
    position, distance = x[..., : n_objectives - 1], x[..., n_objectives - 1 :]
    return (1.0 + _g_rastrigin(distance))[..., None] * _spherical_front(position)


def dtlz4(x: np.ndarray, n_objectives: int = 3, alpha: float = 100.0) -> np.ndarray:
    """DTLZ4: DTLZ2 with positions x^alpha, which crowds points towards the f_M axis."""
    position, distance = x[..., : n_objectives - 1], x[..., n_objectives - 1 :]
    return (1.0 + _g_sphere(distance))[..., None] * _spherical_front(position**alpha)


def dtlz7(x: np.ndarray, n_objectives: int = 3) -> np.ndarray:
    """DTLZ7: 2^(M-1) disconnected regions where the last k variables are 0."""
    position, distance = x[..., : n_objectives - 1], x[..., n_objectives - 1 :]
    g = 1.0 + 9.0 * distance.mean(axis=-1)
    h = n_objectives - np.sum(
        position / (1.0 + g[..., None]) * (1.0 + np.sin(3.0 * np.pi * position)), axis=-1
    )
    return np.concatenate([position, ((1.0 + g) * h)[..., None]], axis=-1)


# The instances mo.py runs ----------------------------------------------------------------------

WFG_SIZE = WFGSize(k=4, l=20, m=2)
DTLZ_OBJECTIVES = 3

# Fronts whose extremes are not round numbers, computed once with scipy's bounded scalar
# minimiser (tests/test_benchmark_mo.py checks them against dense samples of each front):
# ZDT3's front ends where 1 - sqrt(t) - t sin(10 pi t) is least; ZDT6's f1 = 1 - exp(-4x)
# sin^6(6 pi x) has this minimum; on DTLZ7's front (g = 1, M = 3) f3 = 6 - 2 sum phi(f_i) with
# phi(t) = t (1 + sin(3 pi t)) / 2, so the front ends at the maximiser of phi and f3's minimum is
# 6 - 4 max phi.
ZDT3_IDEAL = (0.0, -0.7733690123)
ZDT3_NADIR = (0.8518328655, 1.0)
ZDT6_F1_MIN = 0.2807753188
DTLZ7_IDEAL = (0.0, 0.0, 2.6140087310)
DTLZ7_NADIR = (0.8594008566, 0.8594008566, 6.0)


def _box(lower: float, upper: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, float(lower)), np.full(n, float(upper))


def _problem(
    name: str,
    family: str,
    evaluate: Objectives,
    box: tuple[np.ndarray, np.ndarray],
    ideal: tuple[float, ...],
    nadir: tuple[float, ...],
) -> FormulaProblem:
    return FormulaProblem(name, family, evaluate, *box, np.array(ideal), np.array(nadir))


def _make_problems() -> list[FormulaProblem]:
    zdt4_box = (np.array([0.0] + [-5.0] * 9), np.array([1.0] + [5.0] * 9))
    problems = [
        _problem("ZDT1", "zdt", zdt1, _box(0, 1, 30), (0, 0), (1, 1)),
        _problem("ZDT2", "zdt", zdt2, _box(0, 1, 30), (0, 0), (1, 1)),
        _problem("ZDT3", "zdt", zdt3, _box(0, 1, 30), ZDT3_IDEAL, ZDT3_NADIR),
        _problem("ZDT4", "zdt", zdt4, zdt4_box, (0, 0), (1, 1)),
        _problem("ZDT6", "zdt", zdt6, _box(0, 1, 10), (ZDT6_F1_MIN, 0), (1, 1 - ZDT6_F1_MIN**2)),
    ]
    m = DTLZ_OBJECTIVES
    for name, function, k, nadir in (
        ("DTLZ1", dtlz1, 5, 0.5),
        ("DTLZ2", dtlz2, 10, 1.0),
        ("DTLZ3", dtlz3, 10, 1.0),
        ("DTLZ4", dtlz4, 10, 1.0),
    ):
        problems.append(
            _problem(name, "dtlz", function, _box(0, 1, m + k - 1), (0,) * m, (nadir,) * m)
        )
    problems.append(
        _problem("DTLZ7", "dtlz", dtlz7, _box(0, 1, m + 20 - 1), DTLZ7_IDEAL, DTLZ7_NADIR)
    )
    n = WFG_SIZE.k + WFG_SIZE.l
    wfg_box = (np.zeros(n), 2.0 * np.arange(1, n + 1))
    for name, wfg in WFG_FUNCTIONS.items():
        # With D = 1 and S = (2, 4), every WFG front spans [0, 2] x [0, 4].
        evaluate = functools.partial(wfg, size=WFG_SIZE)
        problems.append(_problem(name, "wfg", evaluate, wfg_box, (0, 0), (2, 4)))
    return problems


PROBLEMS: dict[str, FormulaProblem] = {problem.name: problem for problem in _make_problems()}
"""Name -> problem, in the order tables list them."""
