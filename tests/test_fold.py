"""The fold that both agents learn through: a function of the set of finished trials, whatever
the order they finished in, at a cost that does not grow with the study."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from optuna_rl.core.agent import Undo
from optuna_rl.core.fold import Fold


@dataclass
class Entry:
    number: int
    finished: bool = False
    origin: str | None = None


@dataclass
class Recorder:
    """A learner whose state is the sequence of records it has folded, so that any difference
    in order or content shows; it counts its folds to measure the cost."""

    folded: list[int] = field(default_factory=list)
    n_folds: int = 0

    def fold(self, record: int) -> Undo:
        self.folded.append(record)
        self.n_folds += 1
        return self.folded.pop


def _fold(reads: dict[int, int] | None = None) -> Fold[Entry, int, Recorder]:
    def make_record(entry: Entry) -> int:
        if reads is not None:
            reads[entry.number] = reads.get(entry.number, 0) + 1
        return entry.number

    return Fold(
        Recorder(),
        is_finished=lambda entry: entry.finished,
        make_record=make_record,
        identity=lambda entry: entry.number,
    )


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_fold_is_the_in_order_fold_of_the_finished_entries(data: st.DataObject) -> None:
    # Entries are created in order and finish in any order; after every event the fold holds
    # exactly the finished entries in number order, as a fresh fold of the same entries does.
    n = data.draw(st.integers(1, 30))
    finish_order = data.draw(st.permutations(range(n)))
    entries: list[Entry] = []
    reads: dict[int, int] = {}
    fold = _fold(reads)
    created = 0
    for number in finish_order:
        while created <= number or data.draw(st.booleans()):
            if created == n:
                break
            entries.append(Entry(created))
            created += 1
        entries[number].finished = True
        fold.sync(entries)
        expected = [e.number for e in entries if e.finished]
        assert fold.learner.folded == expected
        fresh = _fold()
        fresh.sync(entries)
        assert fresh.learner.folded == expected
        assert fold.pending == [e.number for e in entries if not e.finished]
    # Each entry is read once, however often it was refolded.
    assert reads == {number: 1 for number in range(n)}


def test_a_trial_that_never_finishes_costs_nothing_but_its_gap() -> None:
    entries = [Entry(0, finished=True), Entry(1)]  # Trial 1 never finishes.
    fold = _fold()
    fold.sync(entries)
    for number in range(2, 1002):
        entries.append(Entry(number, finished=True))
        fold.sync(entries)
    assert fold.learner.folded == [0, *range(2, 1002)]
    # One fold per finished entry: nothing was redone although trial 1 is still a gap.
    assert fold.learner.n_folds == 1001


def test_a_gap_that_fills_redoes_only_what_follows_it() -> None:
    # Two workers: trial k finishes after trial k + 1, as with two trials always in flight.
    entries: list[Entry] = []
    fold = _fold()
    for number in range(0, 200, 2):
        entries += [Entry(number), Entry(number + 1, finished=True)]
        fold.sync(entries)
        entries[number].finished = True
        fold.sync(entries)
    assert fold.learner.folded == list(range(200))
    # Each filled gap redid one entry: 100 entries folded twice, 100 once.
    assert fold.learner.n_folds == 300


def test_a_stale_shorter_view_is_ignored_and_a_different_sequence_is_detected() -> None:
    entries = [Entry(i, finished=True) for i in range(5)]
    fold = _fold()
    fold.sync(entries)
    fold.sync(entries[:3])  # Another thread's older copy of the study's trials.
    assert fold.learner.folded == [0, 1, 2, 3, 4]
    assert fold.continues(entries + [Entry(5)])
    assert not fold.continues([Entry(i + 100, finished=True) for i in range(6)])


def test_a_sequence_with_another_origin_is_another_sequence() -> None:
    # A study deleted and created again may reuse the trial ids (an RDB does): the first
    # entry's origin (when the first trial started) tells the two apart, at any length.
    fold: Fold[Entry, int, Recorder] = Fold(
        Recorder(),
        is_finished=lambda entry: entry.finished,
        make_record=lambda entry: entry.number,
        identity=lambda entry: entry.number,
        origin=lambda entry: entry.origin,
    )
    fold.sync([Entry(i, finished=True, origin="old") for i in range(5)])
    assert fold.continues([Entry(i, finished=True, origin="old") for i in range(3)])
    assert fold.continues([Entry(i, finished=True, origin="old") for i in range(6)])
    assert fold.continues([Entry(0)])  # A first trial not started yet: origin unknown.
    for n in (3, 5, 6):
        assert not fold.continues([Entry(i, finished=True, origin="new") for i in range(n)])


def test_an_interrupted_fold_is_broken_and_never_continues() -> None:
    # An exception inside a sync (a KeyboardInterrupt, say) leaves the learner half updated:
    # the fold must not be continued from there, its owner starts a new one.
    entries = [Entry(i, finished=True) for i in range(10)]

    def make_record(entry: Entry) -> int:
        if entry.number == 7:
            raise KeyboardInterrupt
        return entry.number

    fold: Fold[Entry, int, Recorder] = Fold(
        Recorder(), is_finished=lambda e: e.finished, make_record=make_record, identity=id
    )
    try:
        fold.sync(entries)
    except KeyboardInterrupt:
        pass
    assert fold.learner.folded == list(range(7))
    assert not fold.continues(entries)
