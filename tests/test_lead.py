"""The state's lead feature: whether the model-guided move is doing better lately than the
other moves, as :class:`~optuna_rl.sampling.rewards.ProgressTracker` folds the results in."""

from __future__ import annotations

from optuna_rl.core.ranking import Counts
from optuna_rl.sampling.lead import HORIZON
from optuna_rl.sampling.lead import MIN_RESULTS
from optuna_rl.sampling.lead import WINDOW
from optuna_rl.sampling.lead import ModelLead
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import SURROGATE
from optuna_rl.sampling.results import STARTUP
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.rewards import ProgressTracker
from optuna_rl.sampling.state import describe_state
from optuna_rl.sampling.state import state_index


OTHER = next(i for i, action in enumerate(ACTIONS) if action.name == "coordinate")


def test_the_model_is_ahead_until_both_kinds_have_a_few_results() -> None:
    lead = ModelLead()
    for _ in range(MIN_RESULTS):
        lead.record(by_model=True, good=False)
    for _ in range(MIN_RESULTS - 1):
        lead.record(by_model=False, good=True)
    assert lead.model_ahead
    lead.record(by_model=False, good=True)
    assert not lead.model_ahead


def test_only_the_latest_window_counts_and_ties_favour_the_model() -> None:
    lead = ModelLead()
    for _ in range(WINDOW):
        lead.record(by_model=True, good=False)
    for _ in range(WINDOW):
        lead.record(by_model=False, good=True)
    assert not lead.model_ahead
    # The model's latest WINDOW results are all good now; its earlier misses drop out.
    for _ in range(WINDOW):
        lead.record(by_model=True, good=True)
    assert lead.model_ahead  # 1.0 >= 1.0


def test_the_models_results_expire_so_an_unused_model_is_tried_again() -> None:
    # The model fell behind (WINDOW misses); the agent then took only other moves, good one
    # time in five. The model's misses stop counting HORIZON results after they happened, and
    # once fewer than MIN_RESULTS of them are left the model is ahead again.
    lead = ModelLead()
    for _ in range(WINDOW):
        lead.record(by_model=True, good=False)
    for i in range(HORIZON - MIN_RESULTS):
        lead.record(by_model=False, good=i % 5 == 0)
        assert lead.model_ahead == (i < MIN_RESULTS - 1)
    undo = lead.record(by_model=False, good=False)
    assert lead.model_ahead
    undo()
    assert not lead.model_ahead
    # Fresh results of the model count again.
    for _ in range(MIN_RESULTS):
        lead.record(by_model=True, good=False)
    assert not lead.model_ahead


def test_record_undo_restores_the_comparison() -> None:
    lead = ModelLead()
    undos = []
    for good in (True, True, True):
        undos.append(lead.record(by_model=False, good=good))
    for good in (False, False, False):
        undos.append(lead.record(by_model=True, good=good))
    assert not lead.model_ahead
    undos.pop()()
    assert lead.model_ahead  # the model has too few results again


def _decision(action: int) -> Decision:
    return Decision(0, action, False, 0.1, 0)


def _miss(n: int) -> Counts:
    # Beaten by every one of the n earlier results: rank quantile 1.
    return Counts(better=n, ties=0, n=n)


def test_the_tracker_turns_the_state_to_model_behind_and_back() -> None:
    tracker = ProgressTracker()
    tracker.advance(Counts(0, 0, 0), None, None)  # the first result, no decision
    undos = []
    n = 1
    for _ in range(MIN_RESULTS):
        # Each local move improves the best (no earlier result is better).
        undos.append(tracker.advance(Counts(0, 0, n), 1.0, _decision(OTHER))[1])
        n += 1
    for _ in range(MIN_RESULTS):
        undos.append(tracker.advance(_miss(n), None, _decision(SURROGATE))[1])
        n += 1
    assert not tracker.progress.model_ahead
    assert describe_state(state_index(tracker.progress)).endswith("model behind")
    # Results without the agent's decision (start-up, other samplers) do not count.
    undos.append(tracker.advance(Counts(0, 0, n), 1.0, Decision(-1, STARTUP, False, 0.1, -1))[1])
    assert not tracker.progress.model_ahead
    for undo in reversed(undos):
        undo()
    assert tracker.progress.model_ahead
    assert tracker.lead._good == ([], [])
