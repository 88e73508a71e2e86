"""RLPruner's prior policy: the shipped table, its checks, how the study's samples outweigh it,
and the state and evidence rules it is learned with."""

from __future__ import annotations

import importlib.resources
import json
import pickle
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState
import pytest

from optuna_rl import RLPruner
from optuna_rl._attrs import USER_PRUNER
from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.learner import MIN_STATE_SAMPLES
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.learner import CurveRecord
from optuna_rl.pruning.learner import pruning_evidence
from optuna_rl.pruning.prior import PRIOR_FILE
from optuna_rl.pruning.prior import PriorTable
from optuna_rl.pruning.prior import load_prior
from optuna_rl.pruning.prior import parse_prior
from optuna_rl.pruning.prior import prior_document
from optuna_rl.pruning.state import CONTINUE
from optuna_rl.pruning.state import N_STATES
from optuna_rl.pruning.state import PRUNE
from optuna_rl.pruning.state import better_ranked_states
from optuna_rl.pruning.state import describe_state
from optuna_rl.pruning.state import overtakes
from optuna_rl.pruning.state import state_index


N_STEPS = 20


def _shipped_document() -> dict[str, Any]:
    text = importlib.resources.files("optuna_rl").joinpath("data", PRIOR_FILE).read_text()
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def line(offset: float, steps: range = range(1, N_STEPS + 1)) -> dict[int, float]:
    return {step: offset + 10.0 / step for step in steps}


# ---------------------------------------------------------------------------------------------
# The shipped table and its checks
# ---------------------------------------------------------------------------------------------


def test_shipped_prior_fits_the_state_space() -> None:
    prior = load_prior()
    assert prior.q.shape == prior.weight.shape == (N_STATES, 2)
    assert np.all(np.isfinite(prior.q)) and np.all(prior.weight >= 0)
    assert prior.weight.dtype == np.int64
    # It was learned with pruning on: bad late ranks prune, leaders continue.
    bottom_late = state_index(0.8, 0.99, 0.0)
    top_early = state_index(0.2, 0.01, 0.0)
    assert prior.weight[bottom_late, PRUNE] >= MIN_STATE_SAMPLES
    assert prior.q[bottom_late, PRUNE] > prior.q[bottom_late, CONTINUE]
    assert prior.q[top_early, PRUNE] < prior.q[top_early, CONTINUE]
    # A copy: changing it does not change the next load.
    prior.q[:] = 0.0
    assert np.any(load_prior().q != 0.0)


def test_prior_document_round_trips() -> None:
    prior = load_prior()
    document = prior_document(prior, "test", top_quantile=0.1)
    parsed = parse_prior(json.loads(json.dumps(document)))
    np.testing.assert_allclose(parsed.q, prior.q, atol=1e-5)
    np.testing.assert_array_equal(parsed.weight, prior.weight)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "version"),
        ({"n_states": N_STATES + 1}, "another state space"),
        ({"actions": ["prune", "continue"]}, "another state space"),
        ({"state_space": {"rank_edges": [0.5]}}, "another state space"),
        ({"q": [[0.0, 0.0]]}, "shape"),
        ({"q": [[float("nan"), 0.0]] * N_STATES}, "finite"),
        ({"weight": [[-1, 0]] * N_STATES}, "non-negative integers"),
        ({"weight": [[0.5, 0]] * N_STATES}, "non-negative integers"),
    ],
)
def test_a_prior_that_does_not_fit_is_refused(change: dict[str, Any], message: str) -> None:
    document = {**_shipped_document(), **change}
    with pytest.raises(ValueError, match=message):
        parse_prior(document)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"initial_q_table": np.zeros((3, 2))}, ValueError),
        ({"initial_q_table": np.full((N_STATES, 2), np.inf)}, ValueError),
        ({"initial_q_table": "table"}, TypeError),
        ({"prior_weight": -1.0}, ValueError),
        ({"prior_weight": float("nan")}, ValueError),
        ({"prior_weight": "1"}, TypeError),
        ({"prior_weight": True}, TypeError),
    ],
)
def test_constructor_checks_the_prior(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="initial_q_table|prior_weight"):
        RLPruner(**kwargs)


def test_pruner_with_its_prior_pickles() -> None:
    pruner = RLPruner(initial_q_table=np.ones((N_STATES, 2)), prior_weight=2.0)
    clone = pickle.loads(pickle.dumps(pruner))
    np.testing.assert_array_equal(clone._prior.q, pruner._prior.q)
    np.testing.assert_array_equal(clone._prior.weight, np.full((N_STATES, 2), 40))


# ---------------------------------------------------------------------------------------------
# Acting from the first trials; the study's samples outweigh the prior
# ---------------------------------------------------------------------------------------------


def _study_with(pruner: RLPruner, n_completed: int) -> optuna.Study:
    study = optuna.create_study(pruner=pruner)
    for offset in range(n_completed):
        trial = study.ask()
        for step, value in line(float(offset)).items():
            trial.report(value, step)
        study.tell(trial, float(offset))
    return study


def _first_pruned_step(trial: optuna.Trial, values: dict[int, float]) -> int | None:
    for step, value in values.items():
        trial.report(value, step)
        if trial.should_prune():
            return step
    return None


def test_the_prior_prunes_from_the_first_trials() -> None:
    # Two completed trials: far too few to learn much from, enough to rank against. A trial far
    # behind them is pruned early on by the prior's values; learning from nothing, the pruner
    # has seen too little of the first half of a run to prune there.
    for pruner, prior in ((RLPruner(), True), (RLPruner(prior_weight=0.0), False)):
        study = _study_with(pruner, 2)
        trial = study.ask()
        pruned_at = _first_pruned_step(trial, line(100.0))
        reason = study.trials[trial.number].user_attrs[USER_PRUNER]
        if prior:
            assert pruned_at is not None and pruned_at <= N_STEPS // 4, reason
            assert "from the prior)" in reason
        else:
            assert pruned_at is None or pruned_at > N_STEPS // 2, reason
        study.tell(trial, state=TrialState.PRUNED)


def test_study_samples_outweigh_the_prior_as_pseudo_counts() -> None:
    # A prior that says "prune" everywhere with weight 3; completed winners that visit a state
    # pull its prune value toward -winner_cost with their count against the prior's 3.
    weight = 3
    prior = PriorTable(np.tile([-1.0, 0.0], (N_STATES, 1)), np.full((N_STATES, 2), weight))
    learner = CurveLearner(top_quantile=0.5, n_warmup_steps=0, prior=prior, winner_cost=4.0)
    # Each new curve is the best at every step and at the end: a winner.
    for k in range(6):
        learner.fold(CurveRecord(Curve({1: -k, 2: -k}, 1.0), float(-k)))
    state = learner.state(Curve({1: -10.0, 2: -10.0}, 1.0))
    assert state is not None
    index = state[0]
    n = int(learner.agent.visits[index, PRUNE]) - weight
    assert n > 0
    expected = (weight * 0.0 - 4.0 * n) / (weight + n)
    assert learner.agent.q[index, PRUNE] == pytest.approx(expected)


def test_fold_and_undo_restore_the_prior_exactly() -> None:
    prior = load_prior()
    learner = CurveLearner(top_quantile=0.1, n_warmup_steps=0, prior=prior)
    rng = np.random.default_rng(0)
    undo = []
    for _ in range(30):
        values = np.cumsum(rng.normal(size=N_STEPS))
        final = float(values[-1]) if rng.random() < 0.7 else None
        stop = N_STEPS if final is not None else int(rng.integers(1, N_STEPS))
        curve = Curve({s + 1: float(v) for s, v in enumerate(values[:stop])}, 1.0)
        undo.append(learner.fold(CurveRecord(curve, final)))
    assert np.any(learner.agent.q != prior.q)
    for step in reversed(undo):
        step()
    np.testing.assert_array_equal(learner.agent.q, prior.q)
    np.testing.assert_array_equal(learner.agent.visits, prior.weight)
    assert learner.n_completed == 0 and len(learner.index) == 0 and learner.horizon == 0


# ---------------------------------------------------------------------------------------------
# Evidence and state
# ---------------------------------------------------------------------------------------------


def test_a_well_sampled_state_is_not_overruled_by_a_better_ranked_one() -> None:
    q = np.zeros((N_STATES, 2))
    visits = np.zeros((N_STATES, 2), dtype=np.int64)
    better = state_index(0.3, 0.35, 0.0)
    own = state_index(0.3, 0.95, 0.0)
    assert better in better_ranked_states(own)
    q[better] = (-0.7, -0.2)  # Pruning pays at the better rank, seen often enough.
    visits[better] = MIN_STATE_SAMPLES
    q[own] = (-0.1, -0.5)  # The trial's own state, seen often enough, prefers to continue.
    visits[own] = MIN_STATE_SAMPLES
    assert pruning_evidence(q, visits, own) is None
    visits[own] = MIN_STATE_SAMPLES - 1  # Too rarely seen: it borrows the better rank's values.
    assert pruning_evidence(q, visits, own) == better


def test_a_curve_on_course_to_overtake_is_a_state_of_its_own() -> None:
    steps = np.array([3, 4, 5])
    # Improving by 1 a step: 5 more steps at most (as many as done, and 10 remain) reach 5.
    assert overtakes(steps, np.array([12.0, 11.0, 10.0]), best=5.5, horizon=15)
    assert not overtakes(steps, np.array([12.0, 11.0, 10.0]), best=4.5, horizon=15)
    # The run ends 2 steps later: 8 is as far as it gets.
    assert not overtakes(steps, np.array([12.0, 11.0, 10.0]), best=7.5, horizon=7)
    assert overtakes(steps, np.array([12.0, 11.0, 10.0]), best=8.5, horizon=7)
    # Flat, getting worse, too short or not finite: never.
    assert not overtakes(steps, np.array([10.0, 10.0, 10.0]), best=9.0, horizon=15)
    assert not overtakes(steps, np.array([8.0, 9.0, 10.0]), best=9.0, horizon=15)
    assert not overtakes(steps[:2], np.array([11.0, 10.0]), best=9.0, horizon=15)
    assert not overtakes(steps, np.array([np.inf, 11.0, 10.0]), best=9.0, horizon=15)

    plain = state_index(0.3, 0.95, 0.0)
    overtaking = state_index(0.3, 0.95, 0.0, overtaking=True)
    assert plain != overtaking
    assert describe_state(overtaking) == describe_state(plain) + ", on course to overtake"
    assert set(better_ranked_states(overtaking)).isdisjoint(better_ranked_states(plain))


def test_rank_against_few_curves_stays_near_the_middle() -> None:
    learner = CurveLearner(top_quantile=0.1, n_warmup_steps=0)
    learner.fold(CurveRecord(Curve({1: 0.0, 2: 0.0}, 1.0), 0.0))
    found = learner.state(Curve({1: 5.0}, 1.0))
    assert found is not None
    # Worse than the one other curve: the 70-80th percentile, not the bottom.
    assert "70-80th pct" in describe_state(found[0])
