"""The normalised space the moves work in, and the way back to Optuna's distributions.

Every numeric parameter maps to [0, 1]: log scale for ``log=True``, and for ``step`` and int
grids the interval is widened by half a step on each side so that each grid point owns an equal
share of [0, 1]; values are snapped back to the grid on the way out. Categorical parameters are
choice indices and have moves of their own.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_rl._compat import SearchSpaceTransform


if TYPE_CHECKING:
    from collections.abc import Mapping

    from optuna.distributions import BaseDistribution


class Point(NamedTuple):
    """A configuration in the normalised space."""

    numeric: np.ndarray
    """Float coordinates in [0, 1], one per numeric parameter, in :attr:`SearchSpace.numeric_names` order."""  # noqa: E501
    categorical: np.ndarray
    """Choice indices, one per categorical parameter, in :attr:`SearchSpace.categorical_names` order."""  # noqa: E501


class SearchSpace:
    """Maps parameter dictionaries to :class:`Point` and back for one relative search space.

    Parameter names are sorted, so the layout does not depend on the order in which a search
    space was built (Python's string hashing is not deterministic across processes).
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        self.distributions = {name: distributions[name] for name in sorted(distributions)}
        self.numeric_names = [
            name
            for name, dist in self.distributions.items()
            if isinstance(dist, (FloatDistribution, IntDistribution))
        ]
        self.categorical_names = [
            name
            for name, dist in self.distributions.items()
            if isinstance(dist, CategoricalDistribution)
        ]
        unsupported = (
            set(self.distributions) - set(self.numeric_names) - set(self.categorical_names)
        )
        if unsupported:
            raise ValueError(f"Unsupported distributions for parameters {sorted(unsupported)}.")
        self._transform = (
            SearchSpaceTransform(
                {name: self.distributions[name] for name in self.numeric_names},
                transform_log=True,
                transform_step=True,
                transform_0_1=True,
            )
            if self.numeric_names
            else None
        )
        self._levels: list[tuple[int, np.ndarray]] | None = None
        self.n_choices = np.array(
            [len(self._categorical(name).choices) for name in self.categorical_names],
            dtype=np.int64,
        )

    def _categorical(self, name: str) -> CategoricalDistribution:
        dist = self.distributions[name]
        assert isinstance(dist, CategoricalDistribution)
        return dist

    @property
    def n_numeric(self) -> int:
        return len(self.numeric_names)

    @property
    def n_categorical(self) -> int:
        return len(self.categorical_names)

    def contains(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` has a value inside the distribution of every parameter here."""
        for name, dist in self.distributions.items():
            if name not in params:
                return False
            try:
                if not dist._contains(dist.to_internal_repr(params[name])):
                    return False
            except (ValueError, TypeError):
                return False
        return True

    def encode(self, params: Mapping[str, Any]) -> Point:
        """Map parameter values (external representation) to the normalised space."""
        if self._transform is None:
            numeric = np.zeros(0)
        else:
            numeric = self._transform.transform({n: params[n] for n in self.numeric_names})
            numeric = np.clip(numeric, 0.0, 1.0)
        categorical = np.array(
            [
                int(self._categorical(name).to_internal_repr(params[name]))
                for name in self.categorical_names
            ],
            dtype=np.int64,
        )
        return Point(numeric, categorical)

    def decode(self, point: Point) -> dict[str, Any]:
        """Map a point back to parameter values, snapped to int and step grids.

        Returned numbers are Python ``int``/``float``, never NumPy scalars.
        """
        params: dict[str, Any] = {}
        if self._transform is not None:
            raw = self._transform.untransform(np.clip(point.numeric, 0.0, 1.0))
            for name in self.numeric_names:
                dist = self.distributions[name]
                params[name] = (
                    int(raw[name]) if isinstance(dist, IntDistribution) else float(raw[name])
                )
        for name, index in zip(self.categorical_names, point.categorical, strict=True):
            params[name] = self._categorical(name).to_external_repr(int(index))
        return {name: params[name] for name in self.distributions}

    def snap(self, point: Point) -> Point:
        """The point the trial will actually evaluate: decoded to the grids and encoded again."""
        return self.encode(self.decode(point))

    def snap_numeric(self, numeric: np.ndarray) -> np.ndarray:
        """Rows of numeric coordinates, each moved to the nearest grid point of its int or
        ``step`` parameter; continuous coordinates (and grids of more than
        :data:`MAX_SNAP_LEVELS` points) are left as they are.

        A vectorised :meth:`snap` for scoring many candidates at the points they would really
        evaluate. It is exact on linear grids; on a log grid, a coordinate close to the middle
        between two grid points may go to the other one.
        """
        out = np.array(numeric, dtype=np.float64, copy=True)
        for j, levels in self._grid_levels():
            if len(levels) == 1:
                out[:, j] = levels[0]
                continue
            right = np.clip(np.searchsorted(levels, out[:, j]), 1, len(levels) - 1)
            below, above = levels[right - 1], levels[right]
            # A tie goes up, as Optuna's int rounding (floor of x + 1/2) goes.
            out[:, j] = np.where(out[:, j] - below < above - out[:, j], below, above)
        return out

    def _grid_levels(self) -> list[tuple[int, np.ndarray]]:
        """``(numeric column, encoded grid points, ascending)`` of each grid parameter."""
        if self._levels is None:
            self._levels = []
            for j, name in enumerate(self.numeric_names):
                dist = self.distributions[name]
                assert isinstance(dist, (FloatDistribution, IntDistribution))
                levels = _encoded_grid(dist)
                if levels is not None:
                    self._levels.append((j, levels))
        return self._levels

    def from_unit_cube(self, u: np.ndarray) -> Point:
        """A point from a vector in [0, 1)^(numeric + categorical), as a space-filling design
        gives; categorical coordinates pick a choice by equal shares of [0, 1)."""
        numeric = np.asarray(u[: self.n_numeric], dtype=np.float64)
        cat_u = np.asarray(u[self.n_numeric :], dtype=np.float64)
        categorical = np.minimum((cat_u * self.n_choices).astype(np.int64), self.n_choices - 1)
        return Point(numeric, categorical)


MAX_SNAP_LEVELS = 1024
"""Grids with more points than this are treated as continuous by
:meth:`SearchSpace.snap_numeric`."""


@functools.lru_cache(maxsize=256)
def _encoded_grid(dist: FloatDistribution | IntDistribution) -> np.ndarray | None:
    """The grid points of an int or ``step`` distribution, encoded in [0, 1] as
    :meth:`SearchSpace.encode` encodes them (read-only); ``None`` if it is continuous or has
    more than :data:`MAX_SNAP_LEVELS` points. Cached by distribution (Optuna's distributions
    hash by their fields): a study asks for the same few at every trial."""
    values = _grid(dist)
    if values is None:
        return None
    transform = SearchSpaceTransform(
        {"x": dist}, transform_log=True, transform_step=True, transform_0_1=True
    )
    levels = np.array([np.clip(transform.transform({"x": v})[0], 0.0, 1.0) for v in values])
    levels.setflags(write=False)
    return levels


def _grid(dist: BaseDistribution) -> list[int] | list[float] | None:
    """The values of an int or ``step`` distribution, ascending; ``None`` if continuous or
    longer than :data:`MAX_SNAP_LEVELS`."""
    if isinstance(dist, IntDistribution):
        n = (dist.high - dist.low) // dist.step + 1
        if n > MAX_SNAP_LEVELS:
            return None
        return [dist.low + k * dist.step for k in range(n)]
    if isinstance(dist, FloatDistribution) and dist.step is not None:
        n = int(round((dist.high - dist.low) / dist.step)) + 1
        if n > MAX_SNAP_LEVELS:
            return None
        return [min(dist.high, dist.low + k * dist.step) for k in range(n)]
    return None
