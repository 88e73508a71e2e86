"""The plotly figures show what the agents recorded on the trials, and nothing else."""

from __future__ import annotations

import sys

import numpy as np
import optuna
from optuna.trial import TrialState
import plotly.graph_objects as go
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._trials import recorded_decision
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.state import N_STATES
from optuna_rl.sampling.state import describe_state
from optuna_rl.visualization import plot_action_use
from optuna_rl.visualization import plot_pruning_decisions
from optuna_rl.visualization import plot_q_table
from optuna_rl.visualization import plot_step_size


PLOTS = (plot_q_table, plot_action_use, plot_step_size, plot_pruning_decisions)


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 0, 10)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    value = 0.0
    for step in range(8):
        value = (x - 1.0) ** 2 + (n - 3) ** 2 + (kind == "b") + 4.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


@pytest.fixture(scope="module")
def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=RLSampler(seed=0), pruner=RLPruner())
    study.optimize(objective, n_trials=40)
    return study


def decided(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials whose parameters the sampler chose (start-up design or agent), not the
    independent sampler."""
    return [t for t in study.trials if recorded_decision(t) is not None]


def move(trial: optuna.trial.FrozenTrial) -> str:
    """The name of the move recorded on ``trial``, ``"startup"`` for the start-up design."""
    decision = recorded_decision(trial)
    assert decision is not None
    return ACTIONS[decision.action].name if decision.by_agent else "startup"


def test_q_table_is_the_rebuilt_agent_with_visits_in_the_cells(study: optuna.Study) -> None:
    agent = study.sampler.agent_for(study)
    assert agent.n_updates > 0
    figure = plot_q_table(study)
    (heatmap,) = figure.data
    assert isinstance(heatmap, go.Heatmap)
    z = np.array(heatmap.z, dtype=float)
    assert z.shape == (N_STATES, len(ACTIONS))
    np.testing.assert_allclose(z, agent.q)
    assert list(heatmap.y) == [describe_state(s) for s in range(N_STATES)]
    assert list(heatmap.x) == [action.name for action in ACTIONS]
    np.testing.assert_array_equal(np.array(heatmap.customdata), agent.visits)
    for s in range(N_STATES):
        for a in range(len(ACTIONS)):
            q, n = agent.q[s, a], agent.visits[s, a]
            assert heatmap.text[s][a] == (f"{q:.2f} · {n}" if n else f"{q:.2f}")
    assert f"after {agent.n_updates} of its moves" in figure.layout.title.text


def test_q_table_uses_the_given_samplers_settings(study: optuna.Study) -> None:
    initial = np.zeros((N_STATES, len(ACTIONS)))
    sampler = RLSampler(learning_rate=1.0, discount=0.0, initial_q_table=initial)
    expected = sampler.agent_for(study)
    z = np.array(plot_q_table(study, sampler=sampler).data[0].z, dtype=float)
    np.testing.assert_allclose(z, expected.q)
    # Never-taken moves keep the given initial value.
    assert (z[expected.visits == 0] == 0.0).all()


def test_action_use_counts_each_move_per_trial(study: optuna.Study) -> None:
    figure = plot_action_use(study)
    by_name = {trace.name: trace for trace in figure.data}
    expected: dict[str, list[int]] = {}
    for trial in decided(study):
        expected.setdefault(move(trial), []).append(trial.number)
    assert set(by_name) == set(expected)
    for name, numbers in expected.items():
        assert list(by_name[name].x) == numbers
        assert list(by_name[name].y) == list(range(1, len(numbers) + 1))
    assert sum(len(trace.x) for trace in figure.data) == len(decided(study))


def test_step_size_matches_the_recorded_decisions(study: optuna.Study) -> None:
    figure = plot_step_size(study)
    assert figure.layout.yaxis.type == "log"
    points = {
        int(x): (float(y), trace.name)
        for trace in figure.data
        for x, y in zip(trace.x, trace.y, strict=True)
    }
    trials = decided(study)
    assert sorted(points) == [t.number for t in trials]
    for trial in trials:
        step, group = points[trial.number]
        decision = recorded_decision(trial)
        assert decision is not None
        assert step == pytest.approx(decision.step_size, rel=1e-12)
        if not decision.by_agent:
            assert group == "startup"
        else:
            assert group == ("explored" if decision.explored else "greedy")


def test_pruning_decisions_show_where_and_why(study: optuna.Study) -> None:
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert pruned, "the fixture study should prune some trials"
    figure = plot_pruning_decisions(study)
    by_name = {trace.name: trace for trace in figure.data}
    assert list(by_name["pruned"].x) == [t.number for t in pruned]
    assert list(by_name["pruned"].y) == [t.last_step for t in pruned]
    for trial, text in zip(pruned, by_name["pruned"].customdata, strict=True):
        assert trial.user_attrs["rl_pruner"] in text
        assert "prune" in trial.user_attrs["rl_pruner"]
    completed = study.get_trials(states=(TrialState.COMPLETE,))
    assert list(by_name["completed"].x) == [t.number for t in completed]
    assert set(by_name["completed"].y) == {7}


def test_figures_of_a_study_without_rl_decisions_are_empty() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=5)
    # No decision to learn from: the Q-table is the sampler's initial one.
    heatmap = plot_q_table(study).data[0]
    np.testing.assert_allclose(np.array(heatmap.z, dtype=float), RLSampler().agent_for(study).q)
    assert not np.array(heatmap.customdata).any()
    assert len(plot_action_use(study).data) == 0
    assert len(plot_step_size(study).data) == 0
    completed = {t.name: t for t in plot_pruning_decisions(study).data}["completed"]
    expected = [f"value {t.value:.6g}<br>no RLPruner decision" for t in study.trials]
    assert list(completed.customdata) == expected


def test_figures_serialise_to_json(study: optuna.Study) -> None:
    for plot in PLOTS:
        assert plot(study).to_json()


@pytest.mark.parametrize("plot", PLOTS)
def test_missing_plotly_names_the_extra(
    plot: object, study: optuna.Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(ImportError, match=r"optuna-rl\[dashboard\]"):
        plot(study)  # type: ignore[operator]


def test_not_exported_at_top_level() -> None:
    import optuna_rl

    assert not any(name.startswith("plot_") for name in dir(optuna_rl))
