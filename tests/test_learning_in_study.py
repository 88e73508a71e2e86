"""The agent learns within a study, in the real sampling loop: when the move that pays changes
midway, its choices follow, and its state says so."""

from __future__ import annotations

import numpy as np
import optuna
from optuna.trial import Trial

from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import SURROGATE
from optuna_rl.sampling.state import LEAD_NAMES


optuna.logging.set_verbosity(optuna.logging.WARNING)

SWITCH = 70
"""Until this trial the model-guided move pays; from it on, every other move does."""


def _move_of(trial: Trial) -> int:
    stored = trial.study._storage.get_trial(trial._trial_id).system_attrs
    return int(stored.get(DECISION_KEY, {"a": -1})["a"])


def _study_where_one_move_pays(sampler: RLSampler, paying: int, n_trials: int) -> optuna.Study:
    """As :func:`_switching_study`, with one move paying for the whole study."""
    counter = iter(range(10**6))

    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("y", 0.0, 1.0)
        return -float(next(counter)) if _move_of(trial) == paying else 1e6

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    return study


def test_exploration_follows_the_move_that_pays() -> None:
    # Only the line move pays, a move the prior never prefers. Its exploration steps are
    # Thompson draws on each move's latest results, so they turn to it; uniform exploration
    # would take it on one exploration step in nine (the moves of a 2-D continuous space).
    line = next(i for i, action in enumerate(ACTIONS) if action.name == "line")
    sampler = RLSampler(seed=0, n_startup_trials=5, epsilon_start=0.5, epsilon_end=0.5)
    study = _study_where_one_move_pays(sampler, line, 120)
    explored = [
        t.system_attrs[DECISION_KEY]["a"]
        for t in study.trials[40:]
        if t.system_attrs[DECISION_KEY]["e"]
    ]
    assert len(explored) >= 25
    assert np.mean(np.array(explored) == line) >= 0.5


def _switching_study(sampler: RLSampler) -> optuna.Study:
    """A study whose objective reads which move proposed the trial (the decision is written
    when the parameters are sampled) and pays a new best for the move that pays, the worst
    value for the others: the agent's rewards are then exactly what the moves earn."""
    counter = iter(range(10**6))

    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("y", 0.0, 1.0)
        move = _move_of(trial)
        pays = (move == SURROGATE) == (trial.number < SWITCH)
        return -float(next(counter)) if move >= 0 and pays else 1e6

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=2 * SWITCH)
    return study


def test_the_choices_follow_the_move_that_pays() -> None:
    study = _switching_study(RLSampler(seed=0, n_startup_trials=5))
    moves = np.array([t.system_attrs[DECISION_KEY]["a"] for t in study.trials[1:]])
    greedy = np.array([not t.system_attrs[DECISION_KEY]["e"] for t in study.trials[1:]])
    numbers = np.arange(1, 2 * SWITCH)

    def surrogate_share(low: int, high: int) -> float:
        window = greedy & (numbers >= low) & (numbers < high)
        return float(np.mean(moves[window] == SURROGATE))

    # Before the switch the agent settles on the model-guided move; after it, within a few
    # dozen trials, it has turned away from it.
    assert surrogate_share(40, SWITCH) >= 0.8
    assert surrogate_share(SWITCH + 40, 2 * SWITCH) <= 0.2


def test_the_state_says_when_the_model_falls_behind() -> None:
    # The same switch, seen by the state: while the model-guided move pays, the agent's states
    # say "model ahead"; once only the other moves pay (they are tried on exploration steps),
    # "model behind", whatever the Q-table has learned.
    sampler = RLSampler(seed=0, n_startup_trials=5, epsilon_start=0.2, epsilon_end=0.2)
    study = _switching_study(sampler)
    # (Trial 0 has no decision: the independent sampler chose its parameters.)
    by_agent = [t for t in study.trials[1:] if t.system_attrs[DECISION_KEY]["s"] >= 0]
    behind = np.array([t.system_attrs[DECISION_KEY]["s"] % len(LEAD_NAMES) == 1 for t in by_agent])
    numbers = np.array([t.number for t in by_agent])
    assert not behind[(numbers >= 20) & (numbers < SWITCH)].any()
    assert behind[numbers >= SWITCH + 20].mean() >= 0.9
