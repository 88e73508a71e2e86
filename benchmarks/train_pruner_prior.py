"""Learn the prior pruning policy RLPruner starts from, offline, on the corpus of learning curves.

The corpus (``benchmarks/pruning_corpus.py``, ``results/pruning_corpus/``) holds 20 pools of
full learning curves, split by task into ``train`` and ``validation``. The prior is learned on
the train split only, by the pruner's own Q-learning (``optuna_rl.pruning.learner``): each
round replays many studies on every train pool (``_pruner_replay.replay``: the pruner acting
from the current prior, its learner folding the study's curves as ``RLPruner`` does), with the
compute of a study fixed (equal compute: what the pruner saves buys more trials), and keeps
what each study's own curves taught (its sample sums, less the prior's pseudo-counts). A task's
table is the mean of its studies' targets over all rounds (the first, which starts from nothing
and so prunes little, is where completed curves pass through bad ranks); the prior is the mean
over tasks of their tables (each task weighs at most :data:`TASK_CAP` samples per entry, so that
no task dominates), and
an entry's weight, its pseudo-count in a study, is ``--weight`` times the share of train tasks
that saw it at least ``MIN_STATE_SAMPLES`` times. The next round acts from the new prior, so
the states the prior is learned in are those the pruner meets when it prunes.

Then the prior is judged on the validation split, never trained on: mean anytime area at equal
compute (the pruning benchmark's metric), saving and Δbest at fixed trials, for the pruner from
the prior, from nothing, and with the prior frozen (no learning in the study).

Writes ``optuna_rl/data/pruner_prior.json`` and ``benchmarks/results/pruner_prior.md``::

    nice -n 10 python benchmarks/train_pruner_prior.py
    python benchmarks/train_pruner_prior.py --validate-only     # judge the shipped prior
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
import datetime
import json
from pathlib import Path
import sys
import time
from typing import NamedTuple

from _cli import positive_int
from _machine import machine
from _pruner_replay import Replayed
from _pruner_replay import replay
import numpy as np
from pruning import RESULTS
from pruning import CurvePool
from pruning import anytime_regret
from pruning_corpus import load_corpus

from optuna_rl.pruning.learner import MIN_STATE_SAMPLES
from optuna_rl.pruning.learner import WINNER_COST
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.prior import PRIOR_FILE
from optuna_rl.pruning.prior import PriorTable
from optuna_rl.pruning.prior import load_prior
from optuna_rl.pruning.prior import prior_document
from optuna_rl.pruning.state import N_STATES


DATA = Path(__file__).resolve().parent.parent / "optuna_rl" / "data"
TASK_CAP = 200
"""Samples per entry a task's table weighs at most in the mean over tasks."""
TOP_QUANTILE = 0.1
N_STARTUP_TRIALS = 1
BUDGET_RUNS = (30, 100)
"""A training study's compute, in full runs, drawn log-uniformly in this range."""
EVAL_TRIALS = 100


class Sums(NamedTuple):
    """Sample sums and counts per (state, action): what studies taught, without the prior."""

    total: np.ndarray
    count: np.ndarray

    @classmethod
    def zeros(cls) -> Sums:
        return cls(np.zeros((N_STATES, 2)), np.zeros((N_STATES, 2), dtype=np.int64))

    def mean(self) -> np.ndarray:
        return np.divide(self.total, np.maximum(self.count, 1))


def study_sums(learner: CurveLearner) -> Sums:
    """What a study's own samples added to its learner's table: the sample-average table
    times its counts, less the prior's pseudo-counts at the prior's values."""
    agent, prior = learner.agent, learner.prior
    count = agent.visits - prior.weight
    total = agent.q * agent.visits - prior.q * prior.weight
    return Sums(np.where(count > 0, total, 0.0), count)


def train_task(
    pool: CurvePool, prior: PriorTable, n_studies: int, seed: int, winner_cost: float
) -> Sums:
    """Replay ``n_studies`` equal-compute studies on ``pool`` from ``prior``; their sums."""
    rng = np.random.default_rng(seed)
    sums = Sums.zeros()
    for _ in range(n_studies):
        runs = float(np.exp(rng.uniform(*np.log(BUDGET_RUNS))))
        draws = rng.integers(pool.n_configs, size=int(runs * pool.horizon) + 1)
        learner = CurveLearner(TOP_QUANTILE, 0, prior, winner_cost)
        replay(
            pool.curves,
            pool.sign,
            draws,
            learner,
            n_startup_trials=N_STARTUP_TRIALS,
            epoch_budget=int(runs * pool.horizon),
        )
        study = study_sums(learner)
        sums.total[:] += study.total
        sums.count[:] += study.count
    return sums


def combine(tables: Sequence[Sums], weight: float) -> PriorTable:
    """The mean over tasks of their tables (each capped at :data:`TASK_CAP` samples an entry)
    and each entry's weight: ``weight`` times the share of tasks that saw it enough."""
    capped = np.array([np.minimum(t.count, TASK_CAP) for t in tables], dtype=np.float64)
    means = np.array([t.mean() for t in tables])
    mass = capped.sum(axis=0)
    q = np.divide((capped * means).sum(axis=0), np.maximum(mass, 1.0))
    share = np.mean([t.count >= MIN_STATE_SAMPLES for t in tables], axis=0)
    return PriorTable(q, np.rint(weight * share).astype(np.int64))


def train(
    pools: dict[str, CurvePool],
    rounds: int,
    n_studies: int,
    weight: float,
    winner_cost: float = WINNER_COST,
    log: Callable[[str], None] = print,
) -> PriorTable:
    prior = PriorTable.nothing()
    tables = [Sums.zeros() for _ in pools]
    for round_ in range(rounds):
        started = time.perf_counter()
        for i, pool in enumerate(pools.values()):
            sums = train_task(pool, prior, n_studies, 1000 * round_ + i, winner_cost)
            tables[i].total[:] += sums.total
            tables[i].count[:] += sums.count
        prior = combine(tables, weight)
        seen = int((prior.weight > 0).any(axis=1).sum())
        log(
            f"round {round_ + 1}/{rounds}: {seen} of {N_STATES} states with a prior, "
            f"{time.perf_counter() - started:.0f} s"
        )
    return prior


# ---------------------------------------------------------------------------------------------
# Judging a prior
# ---------------------------------------------------------------------------------------------


class Variant(NamedTuple):
    name: str
    learner: Callable[[], CurveLearner]


class Frozen(CurveLearner):
    """A learner whose Q-table stays the prior's: the study's curves rank against each other,
    but teach nothing."""

    def __init__(self, prior: PriorTable) -> None:
        super().__init__(TOP_QUANTILE, 0, prior)
        self.agent.update = lambda transition: _nothing  # type: ignore[method-assign]


def _nothing() -> None:
    pass


def variants(prior: PriorTable) -> list[Variant]:
    return [
        Variant("prior + learning", lambda: CurveLearner(TOP_QUANTILE, 0, prior)),
        Variant("prior frozen", lambda: Frozen(prior)),
        Variant("from nothing", lambda: CurveLearner(TOP_QUANTILE, 0)),
    ]


def draws(pool: CurvePool, seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(10_000 + seed).integers(pool.n_configs, size=n)


def score(
    pool: CurvePool, variant: Variant, seeds: Sequence[int], n_trials: int = EVAL_TRIALS
) -> dict[str, float]:
    """Mean equal-compute area, and fixed-trial saving and Δbest % against no pruning."""
    budget = n_trials * pool.horizon
    areas, savings, deltas = [], [], []
    for seed in seeds:
        stream = draws(pool, seed, budget + 1)
        equal = replay(
            pool.curves, pool.sign, stream, variant.learner(), n_startup_trials=N_STARTUP_TRIALS,
            epoch_budget=budget,
        )  # fmt: skip
        areas.append(float(anytime_regret(equal, pool, budget).mean()))
        fixed = replay(
            pool.curves, pool.sign, stream, variant.learner(), n_startup_trials=N_STARTUP_TRIALS,
            n_trials=n_trials,
        )  # fmt: skip
        savings.append(budget / sum(r.epochs for r in fixed))
        deltas.append(_delta_best(fixed, pool, stream[:n_trials]))
    return {
        "area": float(np.mean(areas)),
        "area_se": float(np.std(areas, ddof=1) / np.sqrt(len(areas))),
        "saving": float(np.mean(savings)),
        "delta_best_pct": float(np.mean(deltas)),
    }


def _delta_best(records: Sequence[Replayed], pool: CurvePool, configs: np.ndarray) -> float:
    signed = pool.sign * pool.curves[:, -1]
    nop = float(np.nanmin(signed[configs]))
    finals = [pool.sign * r.final for r in records if r.final is not None]
    best = min(finals) if finals else np.inf
    return float(100.0 * (nop - best) / max(abs(nop), 1e-12))


def judge(
    pools: dict[str, CurvePool], prior: PriorTable, seeds: Sequence[int]
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for task, pool in pools.items():
        for variant in variants(prior):
            rows.append({"task": task, "variant": variant.name, **score(pool, variant, seeds)})
            print(rows[-1], flush=True)
    return rows


def write_report(
    rows: Sequence[dict[str, object]], path: Path, command: str, facts: dict[str, object]
) -> None:
    lines = [
        "# The prior pruning policy, judged on the corpus's validation tasks",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  ",
        f"Machine: {machine()}  ",
        "Learned on: " + ", ".join(str(t) for t in facts["train_tasks"]),  # type: ignore[union-attr]
        "",
        "Replayed without Optuna (`benchmarks/_pruner_replay.py`, the pruner's own parts).",
        f"Area: mean anytime regret at equal compute ({EVAL_TRIALS} full runs of epochs; the",
        "metric of `benchmarks/pruning.py`, smaller is better), ± standard error over seeds.",
        f"Saving and Δbest %: {EVAL_TRIALS} trials against no pruning of the same draws.",
        "",
        "| task | variant | area ± se | saving | Δbest % |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['task']} | {row['variant']} | {row['area']:.4f} ± {row['area_se']:.4f}"
            f" | {row['saving']:.2f}x | {row['delta_best_pct']:+.2f} |"
        )
    variants_ = list(dict.fromkeys(str(r["variant"]) for r in rows))
    lines += [
        "",
        "| mean over validation tasks | area | saving | Δbest % |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in variants_:
        group = [r for r in rows if r["variant"] == name]
        lines.append(
            f"| {name} | {np.mean([r['area'] for r in group]):.4f}"
            f" | {np.mean([r['saving'] for r in group]):.2f}x"
            f" | {np.mean([r['delta_best_pct'] for r in group]):+.2f} |"
        )
    path.write_text("\n".join(lines) + "\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument(
        "--studies", type=positive_int, default=12, help="studies per task and round"
    )
    parser.add_argument("--weight", type=float, default=20.0, help="largest pseudo-count")
    parser.add_argument("--seeds", type=positive_int, default=10, help="validation seeds")
    parser.add_argument("--validate-only", action="store_true", help="judge the shipped prior")
    parser.add_argument("--out", type=Path, default=DATA / PRIOR_FILE)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python benchmarks/train_pruner_prior.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    train_pools = load_corpus(split="train")
    if args.validate_only:
        prior = load_prior()
    else:
        prior = train(train_pools, args.rounds, args.studies, args.weight)
        facts = {
            "top_quantile": TOP_QUANTILE,
            "winner_cost": WINNER_COST,
            "rounds": args.rounds,
            "studies_per_task": args.studies,
            "train_tasks": list(train_pools),
        }
        document = prior_document(prior, command.strip(), **facts)
        args.out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
        print(f"wrote {args.out}")
    rows = judge(load_corpus(split="validation"), prior, range(args.seeds))
    write_report(
        rows, RESULTS / "pruner_prior.md", command.strip(), {"train_tasks": list(train_pools)}
    )
    print((RESULTS / "pruner_prior.md").read_text())


if __name__ == "__main__":
    main()
