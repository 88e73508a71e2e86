"""Policy transfer: does a new study do better when RLSampler's agent starts from the Q-table
learned in related studies (``optuna_rl.transfer.learned_q_table``) than from the shipped prior?

Tasks: the tables of one family of ``hpo.py`` (``--family``): HPOBench by default (the same MLP
search space, 5 ordinal parameters, on 8 data sets), or HPOLib (the same 9-parameter space,
ordinal and categorical, on 4 data sets). For each target data set and seed, RLSampler runs
``--trials`` trials starting from:

- **prior**: the table shipped with the package (the default);
- **one related**: the table learned by one RLSampler study (default start, seed + 100) of the
  next data set of the family;
- **all related**: the visit-weighted table of such studies on the family's other data sets;
- **unrelated**: the table learned on another kind of problem (``--unrelated``, by default
  NAS-Bench-201 on CIFAR-10: 6 categorical parameters, where other moves pay);
- **no prior** (``--zeros``): a table of zeros, for scale.

Metric: regret of the incumbent (the table's mean objective over training seeds of the trial
best by its observed value, minus the table's best mean) after 25, 50 and 100 trials; per target
and budget the variants are ranked by mean regret over seeds (1 is best), and each variant's
regret is compared, run by run (same target and seed), with the prior's.

Run (small: 4 targets x 3 seeds; full: 8 targets x 10 seeds)::

    python benchmarks/transfer.py --targets australian car credit_g kc1 --seeds 0 1 2
    python benchmarks/transfer.py --family hpolib --seeds 0 1 2
    python benchmarks/transfer.py --zeros --jobs 2
    python benchmarks/transfer.py --family hpolib --zeros --jobs 2

Outputs in ``benchmarks/results/``: ``transfer_<family>.csv`` (one row per run, regret after
every trial) and ``transfer_<family>.md`` (tables, command, machine, date); ``--out`` changes the
folder.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import multiprocessing
import os
from pathlib import Path
import shlex
import sys
from typing import Any
import warnings

from _cli import positive_int
from _cli import seed_int
from _machine import machine
from convergence import config_id
from convergence import table_means
import hpo
import numpy as np
import optuna


RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("hpobench", "hpolib")
BUDGETS = (25, 50, 100)
SOURCE_SEED_OFFSET = 100


def regret_trace(task: str, study: optuna.Study) -> np.ndarray:
    """Regret of the incumbent after each trial."""
    means = table_means(task)
    optimum = min(means.values())
    trace, best = [], None
    for trial in study.trials:
        if trial.value is not None and (best is None or trial.value < best.value):
            best = trial
        trace.append(np.nan if best is None else means[config_id(task, best.params)] - optimum)
    return np.array(trace)


def run_study(task: str, seed: int, n_trials: int, initial_q: np.ndarray | None) -> optuna.Study:
    from optuna_rl import RLSampler

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=RLSampler(seed=seed, initial_q_table=initial_q))
    study.optimize(hpo.make_objective(task, seed), n_trials=n_trials)
    return study


def source_trials(job: tuple[str, int, int]) -> tuple[str, int, list[optuna.trial.FrozenTrial]]:
    """One source study with the default start: its trials."""
    task, seed, n_trials = job
    return task, seed, run_study(task, seed, n_trials, None).trials


def as_study(trials: list[optuna.trial.FrozenTrial]) -> optuna.Study:
    """An in-memory study holding ``trials`` (decisions included), as if loaded from storage."""
    study = optuna.create_study()
    study.add_trials(trials)
    return study


def target_run(job: tuple[str, str, int, int, np.ndarray | None]) -> dict[str, Any]:
    task, variant, seed, n_trials, initial_q = job
    trace = regret_trace(task, run_study(task, seed, n_trials, initial_q))
    return {
        "task": task,
        "variant": variant,
        "seed": seed,
        "regret_trace": " ".join(f"{v:.6g}" for v in trace),
    }


def plan_targets(
    args: argparse.Namespace, sources: dict[tuple[str, int], optuna.Study]
) -> list[tuple[str, str, int, int, np.ndarray | None]]:
    from optuna_rl import RLSampler
    from optuna_rl.sampling.prior import load_prior
    from optuna_rl.transfer import learned_q_table

    settings = RLSampler()  # The sources ran with the default settings.
    jobs: list[tuple[str, str, int, int, np.ndarray | None]] = []
    datasets = hpo.TABULAR[args.family]
    for name in args.targets:
        task = f"{args.family}/{name}"
        following = f"{args.family}/{datasets[(datasets.index(name) + 1) % len(datasets)]}"
        others = [f"{args.family}/{d}" for d in datasets if d != name]
        for seed in args.seeds:
            source_seed = seed + SOURCE_SEED_OFFSET
            variants: dict[str, np.ndarray | None] = {
                "prior": None,
                "one related": learned_q_table(
                    sources[(following, source_seed)], sampler=settings
                ),
                "all related": learned_q_table(
                    [sources[(o, source_seed)] for o in others], sampler=settings
                ),
                "unrelated": learned_q_table(
                    sources[(args.unrelated, source_seed)], sampler=settings
                ),
            }
            if args.zeros:
                variants["no prior"] = np.zeros_like(load_prior())
            for variant, table in variants.items():
                jobs.append((task, variant, seed, args.trials, table))
    return jobs


def run_all(function: Any, jobs: list[Any], n_jobs: int) -> list[Any]:
    if n_jobs > 1:
        with multiprocessing.get_context("spawn").Pool(n_jobs) as pool:
            return list(pool.imap(function, jobs))
    return [function(job) for job in jobs]


def report(rows: list[dict[str, Any]], n_trials: int) -> list[str]:
    traces = {
        (r["task"], r["variant"], r["seed"]): np.array(r["regret_trace"].split(), dtype=float)
        for r in rows
    }
    tasks = sorted({r["task"] for r in rows})
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    lines: list[str] = []
    for budget in [b for b in BUDGETS if b <= n_trials]:
        lines += [
            f"### After {budget} trials: mean regret over seeds (rank among the variants)",
            "",
            "| target | " + " | ".join(variants) + " |",
            "|---|" + "---:|" * len(variants),
        ]
        ranks = {v: [] for v in variants}
        for task in tasks:
            means = {
                v: np.mean([traces[(task, v, s)][budget - 1] for s in seeds]) for v in variants
            }
            order = sorted(variants, key=lambda v: means[v])
            cells = []
            for v in variants:
                rank = (
                    1
                    + sum(means[o] < means[v] for o in order)
                    + 0.5 * (sum(means[o] == means[v] for o in order) - 1)
                )
                ranks[v].append(rank)
                cells.append(f"{means[v]:.4f} ({rank:g})")
            lines.append(f"| {task.split('/')[1]} | " + " | ".join(cells) + " |")
        lines.append(
            "| **mean rank** | "
            + " | ".join(f"**{np.mean(ranks[v]):.2f}**" for v in variants)
            + " |"
        )
        lines.append("")
        for v in variants[1:]:
            pairs = [
                (traces[(t, v, s)][budget - 1], traces[(t, "prior", s)][budget - 1])
                for t in tasks
                for s in seeds
            ]
            better = sum(a < b for a, b in pairs) + 0.5 * sum(a == b for a, b in pairs)
            lines.append(
                f"- {v} beats the prior in {better:g} of {len(pairs)} runs (ties count half)."
            )
        lines.append("")
    return lines


def write(rows: list[dict[str, Any]], args: argparse.Namespace, started: str) -> str:
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / f"transfer_{args.family}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["task", "variant", "seed", "regret_trace"])
        writer.writeheader()
        writer.writerows(rows)
    command = shlex.join(["python", os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    text = "\n".join(
        [
            "# Policy transfer between studies",
            "",
            f"Targets: {args.family} {', '.join(args.targets)}; seeds {args.seeds}; {args.trials} "
            f"trials; sources run with seed + {SOURCE_SEED_OFFSET}; unrelated source: "
            f"{args.unrelated}. See the docstring of `benchmarks/transfer.py`.",
            "",
            f"- Command: `{command}`",
            f"- Date: {started}",
            f"- Machine: {machine()}",
            "",
            *report(rows, args.trials),
        ]
    )
    (args.out / f"transfer_{args.family}.md").write_text(text + "\n")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=FAMILIES, default="hpobench")
    parser.add_argument("--targets", nargs="+", help="data sets of the family (default: all)")
    parser.add_argument("--seeds", nargs="+", type=seed_int, default=list(range(10)))
    parser.add_argument("--trials", type=positive_int, default=100)
    parser.add_argument("--unrelated", default="nb201/cifar10", choices=hpo.TASKS[:-1])
    parser.add_argument("--zeros", action="store_true", help="also a table of zeros")
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    datasets = hpo.TABULAR[args.family]
    args.targets = args.targets or list(datasets)
    unknown = set(args.targets) - set(datasets)
    if unknown:
        parser.error(f"unknown {args.family} data sets {sorted(unknown)}; choose from {datasets}")
    source_tasks = sorted({f"{args.family}/{d}" for d in datasets} | {args.unrelated})
    source_jobs = [
        (task, seed + SOURCE_SEED_OFFSET, args.trials)
        for task in source_tasks
        for seed in args.seeds
    ]
    sources = {
        (task, seed): as_study(trials)
        for task, seed, trials in run_all(source_trials, source_jobs, args.jobs)
    }
    rows = run_all(target_run, plan_targets(args, sources), args.jobs)
    print(write(rows, args, started))


if __name__ == "__main__":
    main()
