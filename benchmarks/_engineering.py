"""Four classic constrained engineering design problems, in their standard formulations.

Each is ``min f(x)`` subject to ``g_j(x) <= 0`` in a box, with the best known feasible value of
the literature for that formulation. Each ``best_point`` is the literature's optimum computed to
full precision (from its active constraints, or refined with scipy's SLSQP) and nudged by at most
1e-9 relative so that every ``g_j <= 0`` holds exactly; its value agrees with ``best_value`` to
1e-6 relative (``tests/test_benchmark_mo.py`` checks both).

- **Pressure vessel** (E. Sandgren, "Nonlinear integer and discrete programming in mechanical
  design optimization", J. Mech. Des. 112(2), 1990, https://doi.org/10.1115/1.2912596; B. K.
  Kannan, S. N. Kramer, J. Mech. Des. 116(2), 1994): shell and head thickness, inner radius,
  length; 4 constraints. The continuous version (thicknesses not restricted to multiples of
  1/16 in., whose best is 6059.714), radius and length in [10, 200]: best 5885.3327736, with the
  length at its bound and the other three constraints active.
- **Welded beam**, Coello Coello's seven-constraint form (C. A. Coello Coello, "Use of a
  self-adaptive penalty approach for engineering optimization problems", Computers in Industry
  41(2), 2000, https://doi.org/10.1016/S0166-3615(99)00046-9; after K. M. Ragsdell, D. T.
  Phillips, J. Eng. Ind. 98(3), 1976): weld height and length, bar thickness and width; shear
  and bending stress, buckling load, deflection and geometry. Best 1.724852.
- **Tension/compression spring** (J. S. Arora, Introduction to Optimum Design, McGraw-Hill,
  1989; A. D. Belegundu, PhD thesis, University of Iowa, 1982): wire and coil diameter, number
  of active coils; 4 constraints. Best 0.012665233.
- **Speed reducer** (J. Golinski, "Optimal synthesis problems solved by means of nonlinear
  programming and random methods", J. Mechanisms 5(3), 1970): face width, tooth module, number
  of teeth of the pinion (an integer, 17..28), two shaft lengths and diameters; 11 constraints;
  both shaft lengths in [7.3, 8.3]. Best 2994.471066 (the value 2994.4245 also quoted belongs to
  a variant with other constants).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class EngineeringProblem(NamedTuple):
    """A constrained design problem with a best known feasible value.

    Attributes:
        name: e.g. ``"pressure-vessel"``.
        objective: ``x -> f(x)``.
        constraints: ``x -> g(x)``, an array; feasible where every entry is ``<= 0``.
        lower: Lower bounds, shape ``(n,)``.
        upper: Upper bounds.
        integer: Which variables are integers.
        best_value: The best known feasible value (literature).
        best_point: A feasible point whose value is ``best_value`` to 1e-6 relative.
    """

    name: str
    objective: Callable[[np.ndarray], float]
    constraints: Callable[[np.ndarray], np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    best_value: float
    best_point: np.ndarray

    @property
    def dim(self) -> int:
        """Number of design variables."""
        return len(self.lower)


def pressure_vessel(x: np.ndarray) -> float:
    """Material, forming and welding cost of a cylindrical vessel with hemispherical heads."""
    ts, th, r, length = x
    return float(
        0.6224 * ts * r * length + 1.7781 * th * r**2 + 3.1661 * ts**2 * length + 19.84 * ts**2 * r
    )


def pressure_vessel_constraints(x: np.ndarray) -> np.ndarray:
    """Minimum thicknesses (ASME code), minimum volume 1,296,000 in^3, length at most 240 in."""
    ts, th, r, length = x
    return np.array(
        [
            -ts + 0.0193 * r,
            -th + 0.00954 * r,
            -np.pi * r**2 * length - 4.0 / 3.0 * np.pi * r**3 + 1_296_000.0,
            length - 240.0,
        ]
    )


_P, _L, _E, _G = 6000.0, 14.0, 30e6, 12e6
_TAU_MAX, _SIGMA_MAX, _DELTA_MAX = 13600.0, 30000.0, 0.25


def welded_beam(x: np.ndarray) -> float:
    """Cost of weld material and bar."""
    h, length, t, b = x
    return float(1.10471 * h**2 * length + 0.04811 * t * b * (14.0 + length))


def welded_beam_constraints(x: np.ndarray) -> np.ndarray:
    """Shear stress, bending stress, weld not wider than the bar, cost, minimum weld, deflection,
    buckling load (Coello Coello 2000's seven constraints)."""
    h, length, t, b = x
    tau_primary = _P / (np.sqrt(2.0) * h * length)
    moment = _P * (_L + length / 2.0)
    radius = np.sqrt(length**2 / 4.0 + ((h + t) / 2.0) ** 2)
    polar = 2.0 * (np.sqrt(2.0) * h * length * (length**2 / 12.0 + ((h + t) / 2.0) ** 2))
    tau_secondary = moment * radius / polar
    tau = np.sqrt(
        tau_primary**2
        + 2.0 * tau_primary * tau_secondary * length / (2.0 * radius)
        + tau_secondary**2
    )
    sigma = 6.0 * _P * _L / (b * t**2)
    delta = 4.0 * _P * _L**3 / (_E * t**3 * b)
    buckling = (
        4.013
        * _E
        * np.sqrt(t**2 * b**6 / 36.0)
        / _L**2
        * (1.0 - t / (2.0 * _L) * np.sqrt(_E / (4.0 * _G)))
    )
    return np.array(
        [
            tau - _TAU_MAX,
            sigma - _SIGMA_MAX,
            h - b,
            0.10471 * h**2 + 0.04811 * t * b * (14.0 + length) - 5.0,
            0.125 - h,
            delta - _DELTA_MAX,
            _P - buckling,
        ]
    )


def spring(x: np.ndarray) -> float:
    """Weight of the spring: (N + 2) D d^2."""
    d, coil, n = x
    return float((n + 2.0) * coil * d**2)


def spring_constraints(x: np.ndarray) -> np.ndarray:
    """Minimum deflection, shear stress, surge frequency, outside diameter at most 1.5."""
    d, coil, n = x
    return np.array(
        [
            1.0 - coil**3 * n / (71785.0 * d**4),
            (4.0 * coil**2 - d * coil) / (12566.0 * (coil * d**3 - d**4))
            + 1.0 / (5108.0 * d**2)
            - 1.0,
            1.0 - 140.45 * d / (coil**2 * n),
            (coil + d) / 1.5 - 1.0,
        ]
    )


def speed_reducer(x: np.ndarray) -> float:
    """Weight of the gear box."""
    b, m, z, l1, l2, d1, d2 = x
    return float(
        0.7854 * b * m**2 * (3.3333 * z**2 + 14.9334 * z - 43.0934)
        - 1.508 * b * (d1**2 + d2**2)
        + 7.4777 * (d1**3 + d2**3)
        + 0.7854 * (l1 * d1**2 + l2 * d2**2)
    )


def speed_reducer_constraints(x: np.ndarray) -> np.ndarray:
    """Bending and surface stress of the teeth, shaft deflections and stresses, geometry."""
    b, m, z, l1, l2, d1, d2 = x
    return np.array(
        [
            27.0 / (b * m**2 * z) - 1.0,
            397.5 / (b * m**2 * z**2) - 1.0,
            1.93 * l1**3 / (m * z * d1**4) - 1.0,
            1.93 * l2**3 / (m * z * d2**4) - 1.0,
            np.sqrt((745.0 * l1 / (m * z)) ** 2 + 16.9e6) / (110.0 * d1**3) - 1.0,
            np.sqrt((745.0 * l2 / (m * z)) ** 2 + 157.5e6) / (85.0 * d2**3) - 1.0,
            m * z / 40.0 - 1.0,
            5.0 * m / b - 1.0,
            b / (12.0 * m) - 1.0,
            (1.5 * d1 + 1.9) / l1 - 1.0,
            (1.1 * d2 + 1.9) / l2 - 1.0,
        ]
    )


def _problem(
    name: str,
    objective: Callable[[np.ndarray], float],
    constraints: Callable[[np.ndarray], np.ndarray],
    bounds: list[tuple[float, float]],
    best_value: float,
    best_point: list[float],
    integer: tuple[int, ...] = (),
) -> EngineeringProblem:
    lower, upper = np.array(bounds, dtype=float).T
    mask = np.zeros(len(bounds), dtype=bool)
    mask[list(integer)] = True
    return EngineeringProblem(
        name, objective, constraints, lower, upper, mask, best_value, np.array(best_point)
    )


PROBLEMS: dict[str, EngineeringProblem] = {
    problem.name: problem
    for problem in (
        _problem(
            "pressure-vessel",
            pressure_vessel,
            pressure_vessel_constraints,
            [(0.0, 99.0), (0.0, 99.0), (10.0, 200.0), (10.0, 200.0)],
            5885.3327736,
            [0.7781686413758835, 0.38464916262828647, 40.31961872413904, 200.0],
        ),
        _problem(
            "welded-beam",
            welded_beam,
            welded_beam_constraints,
            [(0.1, 2.0), (0.1, 10.0), (0.1, 10.0), (0.1, 2.0)],
            1.724852,
            [0.20572963978, 3.47048866563, 9.036623919396623, 0.20572963998572966],
        ),
        _problem(
            "spring",
            spring,
            spring_constraints,
            [(0.05, 2.0), (0.25, 1.3), (2.0, 15.0)],
            0.012665233,
            [0.051689061123, 0.3567177407231, 11.28896570020112],
        ),
        _problem(
            "speed-reducer",
            speed_reducer,
            speed_reducer_constraints,
            [(2.6, 3.6), (0.7, 0.8), (17, 28), (7.3, 8.3), (7.3, 8.3), (2.9, 3.9), (5.0, 5.5)],
            2994.471066,
            [3.5, 0.7, 17.0, 7.3, 7.715319911485959, 3.350214666099798, 5.286654464985508],
            integer=(2,),
        ),
    )
}
"""Name -> problem."""
