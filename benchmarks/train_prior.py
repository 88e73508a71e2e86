"""Learn the Q-table RLSampler starts from, offline, on randomly generated synthetic functions.

The functions are drawn from broad families (rotated ill-conditioned quadratics, mixtures of
Gaussian bumps, Rastrigin-like waves, banana valleys, non-smooth sums of absolute values,
slopes to a corner, each with optional noise and a random monotone transform of the value) on
random dimensions, with some parameters integer, stepped, log-scaled or categorical. None is a
benchmark function the sampler is evaluated on. Each round runs the sampler from the current
table on a batch of new functions and replaces the table by the visit-weighted mean of the
tables the runs ended with (entries no run visited keep their value), shrunk toward each
action's mean over states.

Writes ``optuna_rl/data/prior_q.json``::

    python benchmarks/train_prior.py --rounds 6 --problems 32 --jobs 2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import json
from multiprocessing import Pool
from pathlib import Path
import sys
import time

import numpy as np
import optuna

from optuna_rl import RLSampler
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.prior import PRIOR_FILE
from optuna_rl.sampling.prior import prior_document
from optuna_rl.sampling.state import N_STATES


FAMILIES = ("ellipsoid", "bumps", "waves", "banana", "abs", "slope")


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def make_function(rng: np.random.Generator, d: int) -> Callable[[np.ndarray], float]:
    """A random function on [0, 1]^d, minimised."""
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    optimum = rng.uniform(0.1, 0.9, d)
    rotation = _rotation(rng, d) if rng.random() < 0.7 else np.eye(d)
    scales = 10.0 ** (rng.uniform(0, 4) * np.linspace(0, 1, d))

    def z(x: np.ndarray) -> np.ndarray:
        return rotation @ (x - optimum)

    if family == "ellipsoid":
        base = lambda x: float(scales @ z(x) ** 2)  # noqa: E731
    elif family == "bumps":
        k = int(rng.integers(3, 40))
        centres = rng.random((k, d))
        centres[0] = optimum
        heights = np.concatenate([[1.0], rng.uniform(0.2, 0.95, k - 1)])
        widths = rng.uniform(0.03, 0.3, k) * np.sqrt(d)

        def base(x: np.ndarray) -> float:
            dist = ((centres - x) ** 2).sum(1)
            return float(-np.max(heights * np.exp(-dist / (2 * widths**2))))

    elif family == "waves":
        amplitude, frequency = rng.uniform(0.5, 10), rng.uniform(2, 8)
        base = lambda x: float(  # noqa: E731
            (z(x) ** 2).sum() * 100 + amplitude * (1 - np.cos(2 * np.pi * frequency * z(x))).sum()
        )
    elif family == "banana":

        def base(x: np.ndarray) -> float:
            y = 4 * z(x) + 1
            return float((100 * (y[1:] - y[:-1] ** 2) ** 2 + (1 - y[:-1]) ** 2).sum() + y[0] ** 2)

    elif family == "abs":
        base = lambda x: float(np.sqrt(scales) @ np.abs(z(x)))  # noqa: E731
    else:
        direction = rng.standard_normal(d)
        base = lambda x: float(direction @ x)  # noqa: E731

    noise = rng.choice([0.0, 0.0, 0.01, 0.1])
    power = rng.choice([0.5, 1.0, 2.0])

    def f(x: np.ndarray) -> float:
        value = base(x)
        value = np.sign(value) * abs(value) ** power
        return float(value * (1 + noise * rng.standard_normal()))

    return f


def run_problem(args: tuple[int, list[list[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Run the sampler from ``q`` on synthetic problem ``index``; its final Q-table and visits."""
    index, q = args
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rng = np.random.default_rng(10_000 + index)
    d = int(rng.choice([2, 3, 5, 8, 10, 15]))
    f = make_function(rng, d)
    kinds = rng.choice(["float", "float", "float", "int", "log", "step"], size=d)
    n_categorical = int(rng.choice([0, 0, 1, 2]))
    offsets = rng.uniform(0, 1, (n_categorical, 4))

    def objective(trial: optuna.Trial) -> float:
        x = np.empty(d)
        for i, kind in enumerate(kinds):
            if kind == "int":
                x[i] = trial.suggest_int(f"x{i}", 0, 20) / 20
            elif kind == "log":
                x[i] = np.log10(trial.suggest_float(f"x{i}", 1e-3, 1.0, log=True)) / 3 + 1
            elif kind == "step":
                x[i] = trial.suggest_float(f"x{i}", 0.0, 1.0, step=0.05)
            else:
                x[i] = trial.suggest_float(f"x{i}", 0.0, 1.0)
        penalty = sum(
            offsets[j, trial.suggest_categorical(f"c{j}", [0, 1, 2, 3])]
            for j in range(n_categorical)
        )
        return f(x) + penalty * (1 + abs(f(x)))

    sampler = RLSampler(seed=index, initial_q_table=np.array(q))
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=int(rng.choice([60, 100, 100, 150])))
    agent = sampler.agent_for(study)
    return agent.q, agent.visits


SHRINKAGE = 50.0
"""Pseudo-visits pulling each state's value of an action toward the action's mean over states:
state-specific values are estimated from few visits, the action's overall worth from many."""


def shrink(q: np.ndarray, visits: np.ndarray) -> np.ndarray:
    """Empirical-Bayes shrinkage of each ``Q(s, a)`` toward the visit-weighted mean of action
    ``a`` over the states, with :data:`SHRINKAGE` pseudo-visits."""
    action_mean = (q * visits).sum(0) / np.maximum(visits.sum(0), 1)
    return (visits * q + SHRINKAGE * action_mean) / (visits + SHRINKAGE)


def train(rounds: int, problems: int, jobs: int) -> np.ndarray:
    q = np.zeros((N_STATES, len(ACTIONS)))
    with Pool(jobs) as pool:
        for r in range(rounds):
            start = time.time()
            batch = [(r * problems + i, q.tolist()) for i in range(problems)]
            results = pool.map(run_problem, batch)
            weighted = sum(v * table for table, v in results)
            visits = sum(v for _, v in results)
            q = shrink(np.where(visits > 0, weighted / np.maximum(visits, 1), q), visits)
            print(
                f"round {r + 1}/{rounds}: {visits.sum()} updates, {time.time() - start:.0f} s",
                file=sys.stderr,
            )
    return q


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent.parent / "optuna_rl" / "data" / PRIOR_FILE,
    )
    args = parser.parse_args()
    q = train(args.rounds, args.problems, args.jobs)
    command = (
        f"python benchmarks/train_prior.py --rounds {args.rounds} "
        f"--problems {args.problems} --jobs {args.jobs}"
    )
    args.out.write_text(json.dumps(prior_document(q, command), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
