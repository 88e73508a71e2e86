"""The edge between Optuna's distributions and the normalised space of the moves.

:class:`SearchSpace` maps parameter dictionaries to :class:`~optuna_rl.sampling.space.Point`
and back for one relative search space, with Optuna's own transform (log scale for ``log=True``,
int and ``step`` grids widened by half a step, then scaled to [0, 1]); values are snapped back
to the grids on the way out. Categorical parameters are choice indices.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_rl import _compat
from optuna_rl.sampling.space import NormalisedSpace
from optuna_rl.sampling.space import Point


if TYPE_CHECKING:
    from collections.abc import Mapping

    from optuna.distributions import BaseDistribution


MAX_SNAP_LEVELS = 1024
"""Grids with more points than this are treated as continuous when candidates are snapped
(:meth:`~optuna_rl.sampling.space.NormalisedSpace.snap_numeric`); a decoded point is always
snapped exactly."""


class SearchSpace:
    """Maps parameter dictionaries to :class:`Point` and back for one relative search space.

    Parameter names are sorted, so the layout does not depend on the order in which a search
    space was built (Python's string hashing is not deterministic across processes).

    Args:
        distributions: The relative search space: float, int and categorical distributions.

    Raises:
        ValueError: If a distribution is of another kind.
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
            _compat.SearchSpaceTransform(
                {name: self.distributions[name] for name in self.numeric_names},
                transform_log=True,
                transform_step=True,
                transform_0_1=True,
            )
            if self.numeric_names
            else None
        )
        n_choices = [len(self._categorical(name).choices) for name in self.categorical_names]
        grids = []
        for j, name in enumerate(self.numeric_names):
            levels = _encoded_grid(self.distributions[name])
            if levels is not None:
                grids.append((j, levels))
        self.normalised = NormalisedSpace(len(self.numeric_names), np.array(n_choices), grids)

    @property
    def key(self) -> str:
        """Equal for equal search spaces."""
        return repr(sorted(self.distributions.items()))

    def _categorical(self, name: str) -> CategoricalDistribution:
        dist = self.distributions[name]
        assert isinstance(dist, CategoricalDistribution)
        return dist

    def contains(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` has a value inside the distribution of every parameter here."""
        for name, dist in self.distributions.items():
            if name not in params or not _compat.distribution_contains(dist, params[name]):
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

    def encode_if_contained(self, params: Mapping[str, Any]) -> Point | None:
        """:meth:`encode`, or ``None`` if ``params`` lacks a value of this space."""
        return self.encode(params) if self.contains(params) else None

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


@functools.lru_cache(maxsize=256)
def _encoded_grid(dist: FloatDistribution | IntDistribution) -> np.ndarray | None:
    """The grid points of an int or ``step`` distribution, encoded in [0, 1] as
    :meth:`SearchSpace.encode` encodes them (read-only); ``None`` if it is continuous or has
    more than :data:`MAX_SNAP_LEVELS` points. Cached by distribution (Optuna's distributions
    hash by their fields): a study asks for the same few at every trial."""
    values = _grid(dist)
    if values is None:
        return None
    transform = _compat.SearchSpaceTransform(
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
