"""When to stop: ``optuna_rl.terminator.ConvergenceCallback`` against Optuna's Terminator, on the
tabular HPO tasks of ``hpo.py``.

Per task and seed, ``RLSampler(seed=seed)`` runs the full budget once, and after every trial
each stopping rule is asked whether it would stop the study there; the first trial at which it
says yes is where that rule would have stopped. A stopping callback does not change what the
sampler proposes, so this is exactly the run that the callback would have cut short (a test
checks it for ``ConvergenceCallback``). The rules:

- **full**: no stop, the whole budget;
- **RL-converged**: ``ConvergenceCallback()`` with its defaults; **RL-converged (model)**:
  ``ConvergenceCallback(use_model=True)``, which also asks a Gaussian process;
- **Terminator**: Optuna's ``TerminatorCallback()`` with its default ``Terminator()`` (a
  Gaussian-process regret bound against the cross-validation error; min. 20 trials). The
  objective reports, as the cross-validation scores of each configuration
  (``report_cross_validation_scores``), the table's values of its training seeds, in the
  objective's units: the statistical error the Terminator is built for;
- **Terminator (EMMR)** (``--emmr``; about 2 s per trial): ``Terminator(EMMREvaluator(),
  MedianErrorEvaluator(EMMREvaluator()))``, Optuna's variant without cross-validation.

With ``--tpe``, Optuna's default sampler ``TPESampler(seed=seed)`` runs too, with the
Terminator: what a user of Optuna's defaults gets.

**Regret at the stop**: the table's mean over training seeds of the objective of the trial that
is best (by its observed, noisy value) when the study stops, minus the best mean in the table.
The objectives are those of ``hpo.py`` (validation error or MSE), minimised.

Run (small: 3 tasks x 3 seeds, a few minutes; full: every tabular task, seeds 0-9)::

    python benchmarks/convergence.py --tasks hpobench/australian hpolib/naval_propulsion \\
        nb201/cifar10 --seeds 0 1 2
    python benchmarks/convergence.py --tpe --jobs 2

Outputs in ``benchmarks/results/``: ``convergence.csv`` (one row per run and rule) and
``convergence.md`` (tables, command, machine, date); ``--out`` changes the folder.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import csv
import datetime
import functools
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
import hpo
import numpy as np
import optuna


RESULTS = Path(__file__).resolve().parent / "results"
TABULAR_TASKS = tuple(task for task in hpo.TASKS if task != hpo.DIGITS)
RULES = ("full", "RL-converged", "RL-converged (model)", "Terminator")
COLUMNS = ("task", "seed", "sampler", "rule", "n_trials", "regret")


@functools.cache
def table_means(task: str) -> dict[str, float]:
    """Mean over the table's training seeds of the objective, per configuration id."""
    benchmark = hpo._tabular_benchmark(task)
    scores = cv_scores_function(task)
    return {key: float(np.mean(scores(entry))) for key, entry in benchmark._dataset.items()}


def cv_scores_function(task: str) -> Callable[[dict[str, Any]], np.ndarray]:
    """The objective of every training seed of a table entry, in ``hpo.py``'s units."""
    benchmark = hpo._tabular_benchmark(task)
    metric = benchmark._main_metric_name
    bench = task.split("/")[0]

    def scores(entry: dict[str, Any]) -> np.ndarray:
        raw = np.asarray(entry[metric], dtype=np.float64)
        if bench == "hpolib":
            return raw
        return 1.0 - (raw / 100.0 if bench == "nb201" else raw)

    return scores


def config_id(task: str, params: dict[str, Any]) -> str:
    """The table's key of a trial's configuration (numeric parameters are suggested as grid
    indices by ``hpo.py``, string ones as their values)."""
    benchmark = hpo._tabular_benchmark(task)
    parts = []
    for name, choices in benchmark.search_space.items():
        value = params[name]
        is_string = benchmark.param_types[name] is str
        parts.append(str(choices.index(value)) if is_string else str(value))
    return "".join(parts)


def make_rules(emmr: bool) -> dict[str, Callable[[optuna.Study], bool]]:
    from optuna.terminator import EMMREvaluator
    from optuna.terminator import MedianErrorEvaluator
    from optuna.terminator import Terminator

    from optuna_rl.terminator import ConvergenceCallback

    rules: dict[str, Callable[[optuna.Study], bool]] = {
        "RL-converged": ConvergenceCallback().converged,
        "RL-converged (model)": ConvergenceCallback(use_model=True).converged,
        "Terminator": Terminator().should_terminate,
    }
    if emmr:
        rules["Terminator (EMMR)"] = Terminator(
            improvement_evaluator=EMMREvaluator(),
            error_evaluator=MedianErrorEvaluator(EMMREvaluator()),
        ).should_terminate
    return rules


def run_one(job: tuple[str, int, str, int, bool]) -> list[dict[str, Any]]:
    """One study of ``sampler`` on ``task``; the rows of every rule."""
    from optuna.terminator import report_cross_validation_scores

    from optuna_rl import RLSampler

    task, seed, sampler_name, n_trials, emmr = job
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # Optuna's terminator module is deprecated since 4.9.
    benchmark_objective = hpo.make_objective(task, seed)
    dataset = hpo._tabular_benchmark(task)._dataset
    scores = cv_scores_function(task)

    def objective(trial: optuna.Trial) -> float:
        value = benchmark_objective(trial)
        entry = dataset[config_id(task, trial.params)]
        report_cross_validation_scores(trial, scores(entry).tolist())
        return value

    rules = make_rules(emmr)
    if sampler_name != "RLSampler":
        rules = {name: rule for name, rule in rules.items() if name.startswith("Terminator")}
    stops: dict[str, int] = {}

    def watch(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        for name, rule in rules.items():
            if name not in stops and rule(study):
                stops[name] = trial.number

    sampler = (
        RLSampler(seed=seed)
        if sampler_name == "RLSampler"
        else optuna.samplers.TPESampler(seed=seed)
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=n_trials, callbacks=[watch])
    trials = study.trials
    means = table_means(task)
    optimum = min(means.values())
    rows = []
    for name in ["full", *rules]:
        last = stops.get(name, n_trials - 1)
        best = min(trials[: last + 1], key=lambda t: t.value)
        rows.append(
            {
                "task": task,
                "seed": seed,
                "sampler": sampler_name,
                "rule": name,
                "n_trials": last + 1,
                "regret": means[config_id(task, best.params)] - optimum,
            }
        )
    return rows


def summary(rows: list[dict[str, Any]], n_trials: int) -> list[str]:
    """Per task and rule: mean trials used and mean regret; then the paired comparison of
    RL-converged and the Terminator on the same runs."""
    keys = sorted({(r["sampler"], r["rule"]) for r in rows}, key=_rule_order)
    tasks = sorted({r["task"] for r in rows})
    header = "| task | " + " | ".join(f"{s} {r}" for s, r in keys) + " |"
    lines = [
        f"Mean trials used (of {n_trials}) / mean regret at the stop, over seeds:",
        "",
        header,
        "|---|" + "---:|" * len(keys),
    ]
    for task in [*tasks, "all tasks"]:
        cells = []
        for sampler, rule in keys:
            mine = [
                r
                for r in rows
                if r["sampler"] == sampler
                and r["rule"] == rule
                and (task == "all tasks" or r["task"] == task)
            ]
            used = np.mean([r["n_trials"] for r in mine])
            regret = np.mean([r["regret"] for r in mine])
            cells.append(f"{used:.1f} / {regret:.4f}")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines += ["", *paired(rows, "RL-converged"), *paired(rows, "RL-converged (model)")]
    return lines


def paired(rows: list[dict[str, Any]], ours: str) -> list[str]:
    """On the same RLSampler runs: how often ``ours`` stops before the Terminator, and at a
    regret no higher."""
    by_run: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["sampler"] == "RLSampler":
            by_run.setdefault((r["task"], r["seed"]), {})[r["rule"]] = r
    runs = [v for v in by_run.values() if ours in v and "Terminator" in v]
    if not runs:
        return []
    earlier = sum(v[ours]["n_trials"] < v["Terminator"]["n_trials"] for v in runs)
    not_worse = sum(v[ours]["regret"] <= v["Terminator"]["regret"] + 1e-12 for v in runs)
    both = sum(
        v[ours]["n_trials"] < v["Terminator"]["n_trials"]
        and v[ours]["regret"] <= v["Terminator"]["regret"] + 1e-12
        for v in runs
    )
    return [
        f"- {ours} against the Terminator on the same {len(runs)} RLSampler runs: stops earlier "
        f"in {earlier}, at a regret no higher in {not_worse}, both in {both}.",
    ]


def _rule_order(key: tuple[str, str]) -> tuple[int, int]:
    sampler, rule = key
    order = [*RULES, "Terminator (EMMR)"]
    return (0 if sampler == "RLSampler" else 1, order.index(rule))


def write_report(rows: list[dict[str, Any]], out: Path, n_trials: int, started: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "convergence.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    command = shlex.join(["python", os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    seeds = sorted({r["seed"] for r in rows})
    text = "\n".join(
        [
            "# Stopping on convergence",
            "",
            f"{len({r['task'] for r in rows})} tabular HPO tasks x seeds {seeds}, budget "
            f"{n_trials} trials. Every rule judges the same run of its sampler after every "
            "trial (see the docstring of `benchmarks/convergence.py`); a rule that never "
            "fires uses the whole budget. Regret: the table's mean objective of the incumbent "
            "at the stop minus the table's best mean.",
            "",
            f"- Command: `{command}`",
            f"- Date: {started}",
            f"- Machine: {machine()}",
            "",
            *summary(rows, n_trials),
        ]
    )
    (out / "convergence.md").write_text(text + "\n")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=TABULAR_TASKS, default=list(TABULAR_TASKS))
    parser.add_argument("--seeds", nargs="+", type=seed_int, default=list(range(10)))
    parser.add_argument("--trials", type=positive_int, default=100)
    parser.add_argument("--tpe", action="store_true", help="also TPESampler with the Terminator")
    parser.add_argument("--emmr", action="store_true", help="also the EMMR Terminator (slow)")
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    samplers = ["RLSampler", *(["TPESampler"] if args.tpe else [])]
    jobs = [
        (task, seed, sampler, args.trials, args.emmr)
        for task in args.tasks
        for seed in args.seeds
        for sampler in samplers
    ]
    rows: list[dict[str, Any]] = []
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for result in pool.imap_unordered(run_one, jobs):
                rows.extend(result)
    else:
        for job in jobs:
            result = run_one(job)
            rows.extend(result)
            print(*job[:3], {r["rule"]: (r["n_trials"], round(r["regret"], 4)) for r in result})
    rows.sort(key=lambda r: (r["task"], r["seed"], *_rule_order((r["sampler"], r["rule"]))))
    print(write_report(rows, args.out, args.trials, started))


if __name__ == "__main__":
    main()
