"""Ranks with ties, the one rule every scale-free quantity of both agents is built on.

A value's rank among others counts the strictly better ones fully and the equal ones by half,
so that a value tied with all others sits in the middle (quantile 0.5) whatever their number.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from bisect import insort
from typing import Any
from typing import Generic
from typing import NamedTuple
from typing import TypeVar

import numpy as np


T = TypeVar("T")


class Counts(NamedTuple):
    """Where a value stands among ``n`` others."""

    better: int
    ties: int
    n: int

    @property
    def quantile(self) -> float:
        """Fraction of the others better, ties counting one half; 0.0 when there are none."""
        return (self.better + 0.5 * self.ties) / self.n if self.n else 0.0


class SortedMultiset(Generic[T]):
    """Items kept sorted (ascending is better) so that ranking one is a binary search."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: slice) -> list[T]:
        return self._items[index]

    def insert(self, item: T) -> None:
        insort(self._items, item)

    def remove(self, item: T) -> None:
        """Remove one occurrence of ``item`` (the inverse of :meth:`insert`)."""
        del self._items[bisect_left(self._items, item)]

    def counts(self, low: Any, high: Any | None = None) -> Counts:
        """How many items are below ``low`` and how many lie in ``[low, high]`` (ties).

        For plain values ``low`` is the value itself; for items that carry a tie-breaker, such
        as ``(key, number)``, pass ``(key, -inf)`` and ``(key, inf)``.
        """
        better = bisect_left(self._items, low)
        end = bisect_right(self._items, low if high is None else high)
        return Counts(better, end - better, len(self._items))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ascending, ties sharing the average of their ranks (as
    ``scipy.stats.rankdata(method="average")``, without importing scipy.stats)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.searchsorted(sorted_values, sorted_values, side="left")
    last = np.searchsorted(sorted_values, sorted_values, side="right")
    ranks = np.empty(len(values))
    ranks[order] = 0.5 * (first + last + 1)
    return ranks
