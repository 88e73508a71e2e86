"""One exploratory study of ``move_outcomes.py``, a row per agent decision (with the rank
quantile of its result)."""

from __future__ import annotations

from pathlib import Path
import sys
from typing import Any

import optuna
import pandas as pd


sys.path.insert(0, str(Path(__file__).parents[2]))

from _synthetic import problem  # noqa: E402
from train_prior import RecordingAgent  # noqa: E402

from optuna_rl import RLSampler  # noqa: E402
from optuna_rl._trials import rank_key  # noqa: E402
from optuna_rl._trials import recorded_decision  # noqa: E402
from optuna_rl.sampling.learner import SearchLearner  # noqa: E402
from optuna_rl.sampling.moves import ACTIONS  # noqa: E402
from optuna_rl.sampling.results import Result  # noqa: E402
from optuna_rl.sampling.state import N_STATES  # noqa: E402


def run(seed: int) -> pd.DataFrame:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    p = problem(seed)
    sampler = RLSampler(seed=seed, epsilon_start=0.5, epsilon_end=0.5)
    study = optuna.create_study(sampler=sampler)
    study.optimize(p.objective, n_trials=p.n_trials)
    agent = RecordingAgent(N_STATES, len(ACTIONS), 0.0, 0.0)
    learner = SearchLearner(agent)
    rows: list[dict[str, Any]] = []
    for trial in study.trials:
        decision = recorded_decision(trial)
        key = rank_key(trial, 1.0)
        seen = learner.progress
        learner.fold(Result(trial.number, key, decision))
        if decision is not None and decision.by_agent and key is not None:
            rows.append(
                {
                    "seed": seed,
                    "family": p.family,
                    "dimension": p.dimension,
                    "budget": p.n_trials,
                    "n": trial.number,
                    "since": seen.since_improvement,
                    "step": seen.step_size,
                    "state": decision.state,
                    "move": ACTIONS[decision.action].name,
                    "explored": decision.explored,
                    "improved": learner.progress.since_improvement == 0,
                    "quantile": learner.progress.last_rank,
                    "reward": agent.transitions[-1].reward,
                }
            )
    return pd.DataFrame(rows)
