"""The normalised space the moves work in.

Every numeric parameter is a coordinate in [0, 1] (log scale for ``log=True``; an int or
``step`` grid widened by half a step on each side, so that each grid point owns an equal share
of [0, 1]); every categorical parameter is a choice index. The mapping from and to Optuna's
distributions lives at the edge, in :mod:`optuna_rl._search_space`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Point(NamedTuple):
    """A configuration in the normalised space."""

    numeric: np.ndarray
    """Float coordinates in [0, 1], one per numeric parameter (parameter names sorted)."""
    categorical: np.ndarray
    """Choice indices (int64), one per categorical parameter (parameter names sorted)."""


def point_key(point: Point) -> bytes:
    """Equal for equal snapped points: encoding the same parameters gives the same floats."""
    return point.numeric.tobytes() + b"|" + point.categorical.astype(np.int64).tobytes()


def nearest_level(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the grid point of ``levels`` (ascending) nearest each of ``values``; a tie goes
    up, as Optuna's int rounding (floor of x + 1/2) goes."""
    if len(levels) == 1:
        return np.zeros(np.shape(values), dtype=np.intp)
    right = np.clip(np.searchsorted(levels, values), 1, len(levels) - 1)
    below, above = levels[right - 1], levels[right]
    return np.where(values - below < above - values, right - 1, right)


class NormalisedSpace:
    """The shape of a search space in the normalised coordinates.

    Args:
        n_numeric: Number of numeric parameters.
        n_choices: Number of choices of each categorical parameter.
        grids: ``(numeric column, grid points in [0, 1], ascending)`` of each numeric parameter
            on an int or ``step`` grid short enough to snap to; the others are continuous.
    """

    def __init__(
        self,
        n_numeric: int,
        n_choices: np.ndarray,
        grids: Sequence[tuple[int, np.ndarray]] = (),
    ) -> None:
        self.n_numeric = n_numeric
        self.n_choices = np.asarray(n_choices, dtype=np.int64)
        self.grids = list(grids)

    @property
    def n_categorical(self) -> int:
        return len(self.n_choices)

    @property
    def resolution(self) -> np.ndarray:
        """Width of a grid point's share of each numeric coordinate (``1 / levels`` on a grid, 0
        where the coordinate is continuous): how finely the coordinate can move."""
        widths = np.zeros(self.n_numeric)
        for j, levels in self.grids:
            widths[j] = 1.0 / len(levels)
        return widths

    @property
    def n_params(self) -> int:
        return self.n_numeric + self.n_categorical

    def snap_numeric(self, numeric: np.ndarray) -> np.ndarray:
        """Rows of numeric coordinates, each moved to the nearest point of its grid; continuous
        coordinates are left as they are.

        A vectorised snap for scoring many candidates at the points they would really evaluate.
        It is exact on linear grids; on a log grid, a coordinate close to the middle between two
        grid points may go to the other one (the sampler snaps exactly when it decodes).
        """
        out = np.array(numeric, dtype=np.float64, copy=True)
        for j, levels in self.grids:
            out[:, j] = levels[nearest_level(levels, out[:, j])]
        return out

    def from_unit_cube(self, u: np.ndarray) -> Point:
        """A point from a vector in [0, 1)^n_params, as a space-filling design gives;
        categorical coordinates pick a choice by equal shares of [0, 1)."""
        numeric = np.asarray(u[: self.n_numeric], dtype=np.float64)
        cat_u = np.asarray(u[self.n_numeric :], dtype=np.float64)
        categorical = np.minimum((cat_u * self.n_choices).astype(np.int64), self.n_choices - 1)
        return Point(numeric, categorical)
