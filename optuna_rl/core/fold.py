"""Replaying a study's finished trials into a learner, in trial-number order, incrementally.

Both agents learn from the study's trials and keep nothing that cannot be rebuilt from them.
Workers finish trials out of order, a worker may die leaving its trial running, and a trial may
be asked for and never told; what is learned must not depend on any of that. So the learner is
defined as the fold, in trial-number order, of exactly the trials that are finished now, the
unfinished ones skipped. When a skipped trial finishes, the fold is undone back to it and redone
from there: the learner stays a function of the set of finished trials, whichever finished
first, and a trial that never finishes costs nothing but its gap.

Cost: each finished trial is folded once, plus once more for every gap before it that fills
while the trial is folded; gaps are the trials still running, near the end of the study, so a
refold redoes a few trials. Undo closures are kept only past the first gap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from typing import Generic
from typing import Protocol
from typing import TypeVar

from optuna_rl.core.agent import Undo


E = TypeVar("E")
R = TypeVar("R")
R_contra = TypeVar("R_contra", contravariant=True)


class Learner(Protocol[R_contra]):
    """Anything that learns from records one at a time and can take each one back."""

    def fold(self, record: R_contra) -> Undo:
        """Learn from ``record``; return a function that restores the state before it."""
        ...


L = TypeVar("L", bound=Learner)


class Fold(Generic[E, R, L]):
    """Folds the finished entries of a growing sequence into ``learner`` in sequence order.

    Args:
        learner: The learner, fresh.
        is_finished: Whether an entry is finished (its record will not change any more).
        make_record: The record of a finished entry; called once per entry.
        identity: A value that tells the entry apart from any other (e.g. the trial id), to
            check that a later sequence continues this one.
        origin: A value of the first entry that never changes once known (e.g. when the first
            trial started), ``None`` while unknown: a sequence whose first entry has another
            origin is another sequence, even if its entries reuse the identities (a study
            deleted and created again under the same ids).

    An exception while folding (an interrupt, say) leaves the learner half updated: the fold is
    then broken, never :meth:`continues` anything, and its owner starts a new one.
    """

    def __init__(
        self,
        learner: L,
        *,
        is_finished: Callable[[E], bool],
        make_record: Callable[[E], R],
        identity: Callable[[E], Hashable],
        origin: Callable[[E], Hashable] | None = None,
    ) -> None:
        self.learner = learner
        self._is_finished = is_finished
        self._make_record = make_record
        self._identity = identity
        self._origin_of = origin
        self._origin: Hashable = None
        self._broken = False
        self._n_seen = 0
        self._last_identity: Hashable = None
        self._gaps: list[int] = []
        self._settled = 0
        self._records: dict[int, R] = {}
        self._journal: deque[tuple[int, Undo]] = deque()

    @property
    def n_seen(self) -> int:
        """Number of leading entries looked at so far."""
        return self._n_seen

    @property
    def pending(self) -> list[int]:
        """Positions of the entries seen unfinished at the last :meth:`sync`, ascending."""
        return list(self._gaps)

    def continues(self, entries: Sequence[E]) -> bool:
        """Whether ``entries`` starts with the entries seen so far (else start a new fold)."""
        if self._broken:
            return False
        if self._origin is not None and entries:
            assert self._origin_of is not None  # Only it sets an origin.
            origin = self._origin_of(entries[0])
            if origin is not None and origin != self._origin:
                return False
        if self._n_seen == 0 or len(entries) < self._n_seen:
            # A shorter sequence is a stale view of the same study (Optuna's per-thread cache):
            # :meth:`sync` ignores it.
            return True
        return self._identity(entries[self._n_seen - 1]) == self._last_identity

    def sync(self, entries: Sequence[E]) -> None:
        """Bring the learner up to date with ``entries`` (which must :meth:`continue
        <continues>` the entries seen so far)."""
        n = len(entries)
        if n < self._n_seen:
            return
        try:
            self._sync(entries, n)
        except BaseException:
            self._broken = True
            raise

    def _sync(self, entries: Sequence[E], n: int) -> None:
        if self._origin is None and n > 0 and self._origin_of is not None:
            self._origin = self._origin_of(entries[0])
        filled = [p for p in self._gaps if self._is_finished(entries[p])]
        start = min(filled) if filled else self._n_seen
        while self._journal and self._journal[-1][0] > start:
            self._journal.pop()[1]()
        self._gaps = [p for p in self._gaps if p < start]
        for position in range(start, n):
            record = self._records.get(position)
            if record is None:
                entry = entries[position]
                if not self._is_finished(entry):
                    self._gaps.append(position)
                    continue
                record = self._records[position] = self._make_record(entry)
            self._journal.append((position, self.learner.fold(record)))
        if n > 0:
            self._last_identity = self._identity(entries[n - 1])
        self._n_seen = n
        self._settle(self._gaps[0] if self._gaps else n)

    def _settle(self, first_gap: int) -> None:
        """Forget how to undo the trials before the first gap: they are never refolded."""
        while self._journal and self._journal[0][0] < first_gap:
            self._journal.popleft()
        for position in range(self._settled, first_gap):
            self._records.pop(position, None)
        self._settled = max(self._settled, first_gap)
