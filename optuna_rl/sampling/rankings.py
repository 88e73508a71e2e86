"""How the results of a study rank against each other: the order behind the rewards, the state
and the elites, for one objective or several.

Both rankings answer the same questions, so the learner does not care how many objectives a
study has:

- where a new result stands among the earlier ones (:class:`~optuna_rl.core.ranking.Counts`:
  how many are better, how many equal);
- how large an improvement is, when no earlier result is as good (a scale-free size: only its
  rank among the study's earlier improvements is used);
- which results are the elites, best first.

With one objective the order is total (:class:`OrderRanking`, by
:class:`~optuna_rl.sampling.results.RankKey`). With several, "better" is Pareto dominance
(:class:`ParetoRanking`): feasible before infeasible, infeasible by total violation, then a
result is better when it is at least as good in every objective and better in one (Deb et al.,
2002, constrained domination). Elites then depend on a direction along the front: each trial
draws random weights and ranks the results by the augmented Chebyshev scalarisation of their
per-objective rank quantiles (ParEGO, Knowles, 2006), so successive trials work on different
parts of the front, and the scale of each objective never matters.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from optuna_rl.core.agent import Undo
from optuna_rl.core.ranking import Counts
from optuna_rl.core.ranking import SortedMultiset
from optuna_rl.sampling.results import COMPLETED
from optuna_rl.sampling.results import INFEASIBLE
from optuna_rl.sampling.results import ParetoKey
from optuna_rl.sampling.results import RankKey
from optuna_rl.sampling.results import improvement


Key = RankKey | ParetoKey

CHEBYSHEV_AUGMENTATION = 0.05
"""Weight of the sum term of the augmented Chebyshev scalarisation (ParEGO's rho): it breaks
the max term's ties in favour of points that are better in the other objectives too."""


class Ranking(Protocol):
    """What the learner and the sampler ask of a ranking."""

    def __len__(self) -> int: ...

    def counts(self, key: Key) -> Counts:
        """Where ``key`` stands among the results inserted so far."""
        ...

    def gain(self, key: Key) -> float:
        """The size of the improvement ``key`` makes, when no result so far is as good."""
        ...

    def insert(self, key: Key, number: int) -> Undo:
        """Add trial ``number``'s result; returns a function that removes it again."""
        ...

    def top(self, k: int, weights: np.ndarray | None) -> list[int]:
        """The trial numbers of the ``k`` best results, best first (along ``weights`` when
        there are several objectives)."""
        ...

    def scores(self, keys: list[Key], weights: np.ndarray | None) -> np.ndarray:
        """Numbers in the order of ``keys`` from best to worst (smaller is better; only the
        order counts), for the model-guided move's data."""
        ...


class OrderRanking:
    """The results of a single-objective study, sorted."""

    def __init__(self) -> None:
        self._entries: SortedMultiset[tuple[RankKey, float]] = SortedMultiset()

    def __len__(self) -> int:
        return len(self._entries)

    def counts(self, key: Key) -> Counts:
        return self._entries.counts((key, -math.inf), (key, math.inf))

    def gain(self, key: Key) -> float:
        assert isinstance(key, RankKey)
        return improvement(self._entries[0:1][0][0], key)

    def insert(self, key: Key, number: int) -> Undo:
        assert isinstance(key, RankKey)
        entry = (key, float(number))
        self._entries.insert(entry)
        return lambda: self._entries.remove(entry)

    def top(self, k: int, weights: np.ndarray | None = None) -> list[int]:
        return [int(number) for _, number in self._entries[:k]]

    def scores(self, keys: list[Key], weights: np.ndarray | None = None) -> np.ndarray:
        feasible = [
            key.value for key in keys if isinstance(key, RankKey) and key.group == COMPLETED
        ]
        if len(feasible) == len(keys):
            # Feasible results only: the values themselves (their order is the ranks').
            return np.array(feasible, dtype=np.float64)
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        position = np.empty(len(keys))
        position[order] = np.arange(len(keys), dtype=np.float64)
        return _tied(keys, position)


class ParetoRanking:
    """The results of a multi-objective study, in arrays that grow (and shrink, for undo)
    at the end.

    Args:
        n_objectives: Number of objectives.
    """

    def __init__(self, n_objectives: int) -> None:
        self._m = n_objectives
        self._n = 0
        self._groups = np.zeros(16, dtype=np.int64)
        self._orders = np.zeros(16)
        self._values = np.zeros((16, n_objectives))
        self._numbers = np.zeros(16, dtype=np.int64)

    def __len__(self) -> int:
        return self._n

    def _vectors(self, key: Key) -> tuple[int, float, np.ndarray]:
        assert isinstance(key, ParetoKey)
        values = np.asarray(key.values, dtype=np.float64) if key.values else np.zeros(self._m)
        return key.group, key.order, values

    def _better_and_equal(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        """Masks of the stored results that dominate ``key`` and that equal it."""
        group, order, values = self._vectors(key)
        groups, orders = self._groups[: self._n], self._orders[: self._n]
        stored = self._values[: self._n]
        same = (groups == group) & (orders == order)
        no_worse = np.all(stored <= values, axis=1)
        strictly = np.any(stored < values, axis=1)
        if group in (COMPLETED, INFEASIBLE):
            dominated_here = same & no_worse & strictly
            equal = same & no_worse & ~strictly
        else:  # Pruned results have no values to compare: equal within their group.
            dominated_here = np.zeros(self._n, dtype=bool)
            equal = same
        better = (groups < group) | ((groups == group) & (orders < order)) | dominated_here
        return better, equal

    def counts(self, key: Key) -> Counts:
        better, equal = self._better_and_equal(key)
        return Counts(int(better.sum()), int(equal.sum()), self._n)

    def gain(self, key: Key) -> float:
        """How many earlier results the new one dominates: a result that pushes the front
        further dominates more of the history."""
        group, order, values = self._vectors(key)
        groups, orders = self._groups[: self._n], self._orders[: self._n]
        stored = self._values[: self._n]
        worse = (groups > group) | ((groups == group) & (orders > order))
        if group in (COMPLETED, INFEASIBLE):
            same = (groups == group) & (orders == order)
            worse |= same & np.all(values <= stored, axis=1) & np.any(values < stored, axis=1)
        return float(worse.sum())

    def insert(self, key: Key, number: int) -> Undo:
        group, order, values = self._vectors(key)
        if self._n == len(self._groups):
            grow = len(self._groups)
            self._groups = np.concatenate([self._groups, np.zeros(grow, dtype=np.int64)])
            self._orders = np.concatenate([self._orders, np.zeros(grow)])
            self._values = np.concatenate([self._values, np.zeros((grow, self._m))])
            self._numbers = np.concatenate([self._numbers, np.zeros(grow, dtype=np.int64)])
        i = self._n
        self._groups[i], self._orders[i], self._values[i], self._numbers[i] = (
            group,
            order,
            values,
            number,
        )
        self._n += 1

        def undo() -> None:
            # The fold undoes in the reverse order of its insertions: this is the last entry.
            self._n -= 1

        return undo

    def _scalarised(
        self, groups: np.ndarray, values: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Augmented Chebyshev of each row's rank quantiles among the stored feasible results
        (rows of other groups get 0: their group and violation rank them)."""
        feasible = self._values[: self._n][self._groups[: self._n] == COMPLETED]
        if len(feasible) == 0:
            return np.zeros(len(values))
        quantiles = np.empty_like(values)
        for j in range(self._m):
            column = np.sort(feasible[:, j])
            below = np.searchsorted(column, values[:, j], side="left")
            upto = np.searchsorted(column, values[:, j], side="right")
            quantiles[:, j] = (below + 0.5 * (upto - below)) / len(column)
        weighted = quantiles * weights
        scalar = weighted.max(axis=1) + CHEBYSHEV_AUGMENTATION * weighted.sum(axis=1)
        return np.where(groups == COMPLETED, scalar, 0.0)

    def top(self, k: int, weights: np.ndarray | None) -> list[int]:
        if self._n == 0:
            return []
        w = np.full(self._m, 1.0 / self._m) if weights is None else weights
        groups, orders = self._groups[: self._n], self._orders[: self._n]
        scalar = self._scalarised(groups, self._values[: self._n], w)
        order = np.lexsort((self._numbers[: self._n], scalar, orders, groups))
        return [int(n) for n in self._numbers[: self._n][order[:k]]]

    def scores(self, keys: list[Key], weights: np.ndarray | None) -> np.ndarray:
        if not keys:
            return np.zeros(0)
        w = np.full(self._m, 1.0 / self._m) if weights is None else weights
        vectors = [self._vectors(key) for key in keys]
        groups = np.array([v[0] for v in vectors])
        orders = np.array([v[1] for v in vectors])
        values = np.array([v[2] for v in vectors])
        scalar = self._scalarised(groups, values, w)
        order = np.lexsort((scalar, orders, groups))
        position = np.empty(len(keys))
        position[order] = np.arange(len(keys), dtype=np.float64)
        return _tied(keys, position)


def _tied(keys: list[Key], position: np.ndarray) -> np.ndarray:
    """``position`` with equal keys given their mean place (as ties share a rank in the
    model's data)."""
    out = position.copy()
    groups: dict[Key, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        out[members] = position[members].mean()
    return out


def random_weights(rng: np.random.Generator, n_objectives: int) -> np.ndarray:
    """Weights drawn uniformly from the simplex (a flat Dirichlet), one direction of the front."""
    return rng.dirichlet(np.ones(n_objectives))
