"""RLSampler through OptunaHub: load the package, run a study, print the best trial.

By default the package is loaded from this folder, as OptunaHub loads a package under review;
``--from-registry`` loads the published one from the OptunaHub registry instead (network).

    python package/samplers/rl_sampler/example.py --n-trials 100
"""

from __future__ import annotations

import argparse
from pathlib import Path

import optuna
import optunahub


# Configuration.
PACKAGE = "samplers/rl_sampler"
REGISTRY_ROOT = Path(__file__).resolve().parents[2]  # the folder named `package`
SEED = 0


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 10)
    return (x - 1.0) ** 2 + (y + 2.0) ** 2 + (n - 3) ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=100)
    parser.add_argument("--from-registry", action="store_true")
    args = parser.parse_args()

    if args.from_registry:
        module = optunahub.load_module(package=PACKAGE)
    else:
        module = optunahub.load_local_module(package=PACKAGE, registry_root=str(REGISTRY_ROOT))

    sampler = module.RLSampler(seed=SEED)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=args.n_trials)
    print(f"best value {study.best_value:.4g} at {study.best_params}")


if __name__ == "__main__":
    main()
