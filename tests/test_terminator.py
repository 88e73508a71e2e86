"""Stopping a study once RLSampler's search has converged (``optuna_rl.terminator``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl import terminator
from optuna_rl._convergence import median_step_size
from optuna_rl._convergence import results_since_improvement
from optuna_rl._trials import recorded_decision
from optuna_rl.terminator import ConvergenceCallback


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield


def bowl(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0, log=False)
    n = trial.suggest_int("n", -3, 3)
    return (x - 1.0) ** 2 + (y + 0.5) ** 2 + (n - 1) ** 2


# --- The pure signs -------------------------------------------------------------------------


def test_results_since_improvement_counts_from_the_last_counted_improvement() -> None:
    assert results_since_improvement(np.array([5.0, 4.0, 3.0, 3.0, 3.5]), 0.0) == 2
    # The spread is median - min = 1.0 - 0.7 = 0.3.
    values = np.array([1.0, 0.9, 0.8, 0.7, 2.0, 2.0, 2.0])
    assert results_since_improvement(values, 0.0) == 3
    # tol = 0.5: an improvement must beat 0.15. 0.9 does not; 0.8 does, 0.2 below the last
    # counted one (small improvements add up); 0.7 does not, 0.1 below 0.8.
    assert results_since_improvement(values, 0.5) == 4
    # tol = 1: nothing beats 1.0 by more than 0.3.
    assert results_since_improvement(values, 1.0) == 6
    # Results that cannot be the best (pruned trials) count as results without improvement.
    assert results_since_improvement(np.array([1.0, np.inf, np.inf]), 0.0) == 2
    assert results_since_improvement(np.array([np.inf, np.inf]), 0.0) == 2
    assert results_since_improvement(np.array([]), 0.0) == 0


def test_results_since_improvement_is_scale_free() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=60)
    expected = results_since_improvement(values, 0.1)
    for scale, shift in ((1e-9, 0.0), (1e9, 5.0), (3.0, -1e6)):
        assert results_since_improvement(values * scale + shift, 0.1) == expected


def test_median_step_size_of_the_last_ones() -> None:
    assert median_step_size(np.array([0.4, 0.1, 0.01, 0.02, 0.03]), 3) == 0.02
    assert np.isnan(median_step_size(np.array([]), 3))


# --- The callback ---------------------------------------------------------------------------


def test_the_callback_stops_a_converged_study_where_the_rule_says() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(bowl, n_trials=300, callbacks=[ConvergenceCallback()])
    n_trials = len(study.trials)
    assert 30 < n_trials < 300
    assert study.best_value < 0.05

    # A callback does not change the proposals: the same seeded run, judged after every trial
    # without stopping, first says "converged" at the trial where the callback stopped.
    judge = ConvergenceCallback()
    verdicts: list[bool] = []
    shadow = optuna.create_study(sampler=RLSampler(seed=0))
    shadow.optimize(
        bowl, n_trials=n_trials, callbacks=[lambda s, t: verdicts.append(judge.converged(s))]
    )
    assert [t.params for t in shadow.trials] == [t.params for t in study.trials]
    assert verdicts.index(True) == n_trials - 1


def test_the_stop_is_logged_at_optunas_info_level(caplog: pytest.LogCaptureFixture) -> None:
    # The message goes through Optuna's logger (it used to go to a logger outside Optuna's
    # hierarchy, where Optuna's default INFO verbosity did not reach it).
    optuna.logging.enable_propagation()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        study = optuna.create_study(sampler=RLSampler(seed=0))
        study.optimize(bowl, n_trials=300, callbacks=[ConvergenceCallback()])
    finally:
        optuna.logging.set_verbosity(verbosity)
        optuna.logging.disable_propagation()
    # A record may reach caplog twice (pytest also captures Optuna's logger): distinct ones.
    stops = list(
        {id(r): r for r in caplog.records if r.getMessage().startswith("Stopping")}.values()
    )
    assert len(stops) == 1 and stops[0].name.startswith("optuna.")
    assert f"after trial {len(study.trials) - 1}:" in stops[0].getMessage()


def quadratic(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    return x**2 + y**2


def test_small_moves_count_even_when_the_step_size_is_not_small() -> None:
    # The agent refines with moves that do not draw with its step size (the model-guided and
    # the differential ones): judged by the step sizes alone, most of these converged studies
    # would run their whole budget.
    step_size_alone = []
    for seed in range(4):
        study = optuna.create_study(sampler=RLSampler(seed=seed))
        study.optimize(quadratic, n_trials=200, callbacks=[ConvergenceCallback()])
        assert len(study.trials) < 200
        assert study.best_value < 2.0
        steps = [d.step_size for t in study.trials if (d := recorded_decision(t)) is not None]
        step_size_alone.append(np.median(steps[-15:]) <= 0.02)
    assert not all(step_size_alone)


def test_a_moves_length_is_measured_in_the_normalised_space() -> None:
    distributions = {
        "x": optuna.distributions.FloatDistribution(1.0, 100.0, log=True),
        "c": optuna.distributions.CategoricalDistribution(["a", "b"]),
        "fixed": optuna.distributions.IntDistribution(3, 3),
    }

    def trial(x: float, c: str) -> optuna.trial.FrozenTrial:
        params = {"x": x, "c": c, "fixed": 3}
        return optuna.trial.create_trial(params=params, distributions=distributions, value=0.0)

    anchors = {7: trial(10.0, "a")}
    # x moves half its log range, c changes: sqrt((0.5**2 + 1**2) / 2); "fixed" is no parameter.
    expected = np.sqrt((0.25 + 1.0) / 2)
    assert terminator._move_length(trial(100.0, "b"), 7, anchors) == pytest.approx(expected)
    assert terminator._move_length(trial(10.0, "a"), 7, anchors) == 0.0
    assert terminator._move_length(trial(10.0, "a"), -1, anchors) == 1.0  # A restart.


def test_a_larger_tolerance_stops_no_later() -> None:
    stops = []
    for tol in (0.01, 0.2):
        study = optuna.create_study(sampler=RLSampler(seed=3))
        study.optimize(bowl, n_trials=300, callbacks=[ConvergenceCallback(tol=tol)])
        stops.append(len(study.trials))
    assert stops[1] <= stops[0]


def test_without_the_samplers_decisions_nothing_stops() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(bowl, n_trials=80, callbacks=[ConvergenceCallback(use_model=False)])
    assert len(study.trials) == 80


def test_a_search_that_still_explores_does_not_stop() -> None:
    # A space of categorical parameters only: the agent restarts and its step size stays large,
    # so a long stagnation alone does not stop the study.
    def grid(trial: optuna.Trial) -> float:
        choices = [trial.suggest_categorical(f"c{i}", ["a", "b", "c"]) for i in range(3)]
        return float(sum(choice == "a" for choice in choices))

    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(grid, n_trials=80, callbacks=[ConvergenceCallback()])
    assert study.best_value == 0.0
    assert len(study.trials) == 80
    # Without the step-size sign (any step counts as small), stagnation would have stopped it.
    loose = optuna.create_study(sampler=RLSampler(seed=0))
    loose.optimize(grid, n_trials=80, callbacks=[ConvergenceCallback(max_step_size=1.0)])
    assert len(loose.trials) < 80


def test_pruned_and_failed_trials_are_no_obstacle() -> None:
    def sometimes(trial: optuna.Trial) -> float:
        value = bowl(trial)
        if trial.number % 5 == 3:
            raise optuna.TrialPruned()
        if trial.number % 7 == 4:
            return float("nan")
        return value

    study = optuna.create_study(sampler=RLSampler(seed=1))
    study.optimize(sometimes, n_trials=300, callbacks=[ConvergenceCallback()])
    assert len(study.trials) < 300


def test_multi_objective_is_refused() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="single-objective"):
        ConvergenceCallback().converged(study)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tol": -0.1}, ValueError, r"`tol` must be in \[0.0, 1.0\], got -0.1"),
        ({"tol": "0.1"}, TypeError, "`tol` must be a float"),
        ({"patience": 0}, ValueError, "`patience` must be an int >= 1, got 0"),
        ({"patience": 2.5}, TypeError, "`patience` must be an int"),
        ({"max_step_size": 0.0}, ValueError, r"`max_step_size` must be in \(0.0, 1.0\]"),
        ({"use_model": 1}, TypeError, "`use_model` must be a bool"),
    ],
)
def test_arguments_are_checked(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ConvergenceCallback(**kwargs)


def test_infeasible_trials_do_not_count_as_improvements() -> None:
    def constrained(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        trial.set_constraint("x_at_least_1", 1.0 - x)  # Feasible when x >= 1.
        return x * x

    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(constrained, n_trials=30, callbacks=[ConvergenceCallback()])
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    values = terminator._signed_values(trials, 1.0)
    feasible = np.array([t.params["x"] >= 1.0 for t in trials])
    assert feasible.any() and not feasible.all()
    assert np.all(np.isinf(values[~feasible]))
    np.testing.assert_array_equal(
        values[feasible], [t.value for t in trials if t.params["x"] >= 1]
    )
