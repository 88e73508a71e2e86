"""The convergence callback's doc example (a 2-parameter quadratic, 200 trials) over seeds 0-7:
for each seed, the trials the study ran (fewer than 200: the callback stopped it) and the median
step size of its last 15 trials. Behind the step-size figures of the learned exploration in
``../rl_experiments.md``. Run from the repository root against the code to judge: at commit
9573821 (the sampler before the learned exploration, the callback judging step sizes only) 1
of 8 seeds stops, steps 0.0125-0.1; at commit 8e3924d (the learned exploration, the same
callback) none, steps 0.1-0.4; with the callback that also judges the moves' lengths (commit
3aee1fc on, ``python benchmarks/results/experiment7/callback_steps.py``) 8 of 8 with either
sampler."""

from __future__ import annotations

import numpy as np
import optuna

from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl.terminator import ConvergenceCallback


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    return x**2 + y**2


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for seed in range(8):
        study = optuna.create_study(sampler=RLSampler(seed=seed))
        study.optimize(objective, n_trials=200, callbacks=[ConvergenceCallback()])
        steps = [t.system_attrs[DECISION_KEY]["k"] for t in study.trials[-15:]]
        print(f"seed {seed}: {len(study.trials)} trials, median step {np.median(steps):.3g}")
