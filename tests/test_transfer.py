"""Starting a study's agent from the table learned in finished studies
(``optuna_rl.transfer.learned_q_table``)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl import dashboard
from optuna_rl import visualization
from optuna_rl.sampling.prior import load_prior
from optuna_rl.transfer import learned_q_table
from optuna_rl.visualization import plot_q_table


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield


def bowl(trial: optuna.Trial, shift: float = 1.0) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", -5, 5)
    return (x - shift) ** 2 + (n - 2) ** 2


def finished_study(seed: int, shift: float = 1.0, storage: str | None = None) -> optuna.Study:
    study = optuna.create_study(sampler=RLSampler(seed=seed), storage=storage)
    study.optimize(lambda trial: bowl(trial, shift), n_trials=40)
    return study


def test_the_table_of_one_study_is_its_rebuilt_agent() -> None:
    old = finished_study(0)
    table = learned_q_table(old)
    agent = RLSampler().agent_for(old)
    np.testing.assert_array_equal(table, agent.q)
    assert np.any(table != load_prior())

    # A new study starts from it, and learns on from there.
    sampler = RLSampler(seed=1, initial_q_table=table)
    new = optuna.create_study(sampler=sampler)
    new.optimize(lambda trial: bowl(trial, 2.0), n_trials=30)
    learned = sampler.agent_for(new)
    np.testing.assert_array_equal(learned.initial_q, table)
    assert learned.n_updates > 0
    # A fresh rebuild of the new study needs the same start, as every worker has.
    np.testing.assert_array_equal(
        RLSampler(initial_q_table=learned_q_table(old)).agent_for(new).q, learned.q
    )


def test_a_study_loaded_from_storage_gives_the_same_table(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'old.db'}"
    old = finished_study(0, storage=storage)
    loaded = optuna.load_study(study_name=old.study_name, storage=storage)  # TPESampler
    np.testing.assert_array_equal(learned_q_table(loaded), learned_q_table(old))


def test_several_studies_are_averaged_by_visits() -> None:
    studies = [finished_study(seed, shift) for seed, shift in ((0, 1.0), (1, -2.0), (2, 3.0))]
    agents = [RLSampler().agent_for(study) for study in studies]
    table = learned_q_table(studies)
    visits = sum(agent.visits for agent in agents)
    for state, action in zip(*np.nonzero(visits), strict=True):
        expected = sum(a.visits[state, action] * a.q[state, action] for a in agents)
        assert table[state, action] == pytest.approx(expected / visits[state, action])
    np.testing.assert_array_equal(table[visits == 0], load_prior()[visits == 0])
    # One study in a list is that study's table.
    np.testing.assert_array_equal(learned_q_table(studies[:1]), agents[0].q)


def test_the_rebuilding_settings_are_the_given_samplers() -> None:
    old = finished_study(0)
    zeros = np.zeros_like(load_prior())
    settings = RLSampler(learning_rate=1.0, initial_q_table=zeros)
    table = learned_q_table(old, sampler=settings)
    np.testing.assert_array_equal(table, settings.agent_for(old).q)
    visited = settings.agent_for(old).visits > 0
    np.testing.assert_array_equal(table[~visited], 0.0)


def test_no_study_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one study"):
        learned_q_table([])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda study: learned_q_table("my-study"), "studies"),  # type: ignore[arg-type]
        (lambda study: learned_q_table([study, "other"]), "study"),  # type: ignore[list-item]
        (
            lambda study: learned_q_table(study, sampler=optuna.samplers.TPESampler()),  # type: ignore[arg-type]
            "sampler",
        ),
        (lambda study: dashboard.write_policy_note(study, sampler=3), "sampler"),  # type: ignore[arg-type]
        (lambda study: dashboard.PolicyNoteCallback(sampler="rl"), "sampler"),  # type: ignore[arg-type]
        (lambda study: plot_q_table(study, sampler="rl"), "sampler"),  # type: ignore[arg-type]
        (lambda study: plot_q_table("my-study"), "study"),  # type: ignore[arg-type]
        (lambda study: visualization.plot_action_use("my-study"), "study"),  # type: ignore[arg-type]
        (lambda study: visualization.plot_step_size("my-study"), "study"),  # type: ignore[arg-type]
        (lambda study: visualization.plot_pruning_decisions("s"), "study"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_study_or_sampler_is_a_type_error_naming_it(
    call: Callable[[optuna.Study], object], name: str
) -> None:
    # Checked where the argument is given (a callback refuses it when it is made, not every
    # tenth trial), with the argument's name, as Optuna's own functions do.
    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(lambda trial: trial.suggest_float("x", -1.0, 1.0) ** 2, n_trials=12)
    with pytest.raises(TypeError, match=f"`{name}` must be"):
        call(study)
