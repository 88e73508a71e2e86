"""The pretrained Q-table: shipped, validated, used as the agent's starting point."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.prior import load_prior
from optuna_rl.sampling.prior import parse_prior
from optuna_rl.sampling.prior import prior_document
from optuna_rl.sampling.state import N_STATES


def _objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -5, 5) ** 2 + trial.suggest_float("y", -5, 5) ** 2


def test_shipped_prior_fits_the_action_set_and_states() -> None:
    q = load_prior()
    assert q.shape == (N_STATES, len(ACTIONS))
    assert np.all(np.isfinite(q))
    q[0, 0] = 1e9  # A copy: the shipped table cannot be changed through it.
    assert load_prior()[0, 0] != 1e9


def test_prior_document_round_trips_through_json() -> None:
    q = np.arange(N_STATES * len(ACTIONS), dtype=float).reshape(N_STATES, -1) / 7.0
    document = json.loads(json.dumps(prior_document(q, "test")))
    np.testing.assert_allclose(parse_prior(document), q, atol=1e-5)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 0},
        {"n_states": N_STATES + 1},
        {"actions": [a.name for a in ACTIONS][::-1]},
        {"q": [[0.0]]},
        {"q": [[float("nan")] * len(ACTIONS)] * N_STATES},
    ],
)
def test_prior_for_another_agent_is_refused(change: dict) -> None:
    document = prior_document(np.zeros((N_STATES, len(ACTIONS))), "test") | change
    with pytest.raises(ValueError):
        parse_prior(document)


def test_default_agent_starts_from_the_shipped_prior() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0))
    np.testing.assert_array_equal(RLSampler().agent_for(study).q, load_prior())


def test_initial_q_table_is_the_starting_point_and_rebuilds_the_same() -> None:
    table = np.zeros((N_STATES, len(ACTIONS)))
    table[:, [a.name for a in ACTIONS].index("restart")] = 5.0
    sampler = RLSampler(
        seed=0, n_startup_trials=3, initial_q_table=table, epsilon_start=0.0, epsilon_end=0.0
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=12)
    actions = [t.user_attrs["rl_sampler"].split()[0] for t in study.trials[3:]]
    assert actions == ["restart"] * len(actions)
    rebuilt = RLSampler(initial_q_table=table).agent_for(study)
    np.testing.assert_array_equal(rebuilt.q, sampler.agent_for(study).q)
    assert not np.array_equal(rebuilt.q, table)  # The study's trials updated it.


@pytest.mark.parametrize(
    "table, error",
    [
        (np.zeros((2, 2)), ValueError),
        (np.full((N_STATES, len(ACTIONS)), np.inf), ValueError),
        ("zeros", TypeError),
        (np.zeros((N_STATES, len(ACTIONS)), dtype=complex), TypeError),
        (np.zeros((N_STATES, len(ACTIONS)), dtype=bool), TypeError),
    ],
)
def test_bad_initial_q_table_is_refused(table: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="initial_q_table"):
        RLSampler(initial_q_table=table)  # type: ignore[arg-type]
