"""The offline training of RLSampler's prior: the synthetic problems and the fitted Q-iteration."""

from __future__ import annotations

from pathlib import Path
import sys

import numpy as np
import optuna

from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.state import N_STATES


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

import _synthetic  # noqa: E402
import train_prior  # noqa: E402


optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_problems_are_drawn_from_their_seed_and_split_by_family() -> None:
    a, b = _synthetic.problem(3), _synthetic.problem(3)
    assert (a.family, a.dimension, a.n_trials) == (b.family, b.dimension, b.n_trials)
    training = {_synthetic.problem(seed).family for seed in range(200)}
    assert training <= set(_synthetic.TRAINING_FAMILIES)
    held_out = {_synthetic.problem(_synthetic.VALIDATION_SEED + s).family for s in range(200)}
    assert set(_synthetic.VALIDATION_FAMILIES) <= held_out


def test_a_problem_runs_and_gives_finite_values() -> None:
    p = _synthetic.problem(11)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(p.objective, n_trials=20)
    assert all(np.isfinite(t.value) for t in study.trials)


def test_fitted_q_solves_a_known_chain() -> None:
    # State 0: action 0 ends the episode paying 1; action 1 pays 0 and leads to state 1, where
    # action 0 ends it paying 4. With gamma 0.5: Q(1, 0) = 4, Q(0, 1) = 0 + 0.5 * 4 = 2 > Q(0, 0).
    rows = [(0, 0, 1.0, -1)] * 500 + [(0, 1, 0.0, 1)] * 500 + [(1, 0, 4.0, -1)] * 500
    q, visits = train_prior.fitted_q(np.array(rows, dtype=float), discount=0.5)
    assert q.shape == (N_STATES, len(ACTIONS))
    assert visits[0, 0] == visits[0, 1] == visits[1, 0] == 500
    # Shrinkage toward each move's mean moves a well-visited entry by a few percent at most.
    assert abs(q[1, 0] - 4.0) < 0.2
    assert abs(q[0, 1] - 2.0) < 0.2
    assert abs(q[0, 0] - 1.0) < 0.2
    assert int(np.argmax(q[0, :2])) == 1


def test_transitions_replay_what_the_sampler_learned() -> None:
    from optuna_rl import RLSampler

    p = _synthetic.problem(5)
    sampler = RLSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(p.objective, n_trials=30)
    transitions = train_prior.transitions_of(study)
    assert len(transitions) == sampler.agent_for(study).n_updates == 20
