"""RLSampler against Optuna's samplers on the BBOB suite (COCO's 24 noiseless functions).

Each run minimises one BBOB problem ``f`` (function, dimension ``D``, instance), from PyPI's
``coco-experiment`` (module ``cocoex``, offline), with one sampler and one seed: the parameters
are ``x0 .. x{D-1}`` as ``suggest_float`` over the problem's bounds ``[-5, 5]^D``. The recorded
series is the best *regret* ``f(x) - f_opt`` after each trial (``f_opt`` is
``cocoex.BareProblem.best_value()``). Metrics:

- **log10 regret** at 25, 50, 100 and 300 trials (and at the run length when it is longer:
  ``max(--trials, 10·D + 50)`` trials, unless ``--no-dim-budget``), floored at 1e-8 (COCO's
  final target: below it all results are equal).
- **Mean rank**: samplers are ranked per problem (function, dimension, instance) by the mean over
  seeds of the log10 regret at the budget (ties share the average rank); ranks are averaged over
  the problems. 1 is best.
- **Win rate** of A over B: the fraction of problems where A's mean log10 regret is lower than
  B's; a tie counts half.
- **ECDF** as COCO draws it: the fraction of (run, target) pairs reached after ``n`` trials, for
  51 regret targets ``10^2 .. 10^-8``, per dimension.

Run::

    python benchmarks/bbob.py --quick     # 4 functions, D = 2 and 5, 40 trials, 1 seed (~2 min)
    python benchmarks/bbob.py             # 24 functions, D = 2 and 5, instances 1-2, seed 0

The full default takes about 2 hours on 2 cores, almost all of it GPSampler (about 1-2 s per
trial at 100 trials, i.e. 2-3 minutes per run, against well under a second per run for the
others). Bigger runs add dimensions, instances and seeds; the CSV is resumable, so GPSampler can
be run separately and the report rebuilt from everything in the CSV::

    python benchmarks/bbob.py --dims 2 5 10 20 --instances 1 2 3 --seeds 0 1 2 \\
        --samplers RLSampler TPESampler CmaEsSampler RandomSampler QMCSampler
    python benchmarks/bbob.py --samplers GPSampler --dims 2 5 --jobs 2

Outputs in ``benchmarks/results/``: ``bbob.csv`` (one row per run: its best-regret series and
wall time), ``bbob.md`` (tables, command, machine, date) and ``bbob_ecdf.png``; ``--quick``
writes ``bbob_quick.*``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
import time
from typing import Any

from _cli import positive_int
from _common import BASELINE
from _common import ResultStore
from _common import add_common_arguments
from _common import best_so_far
from _common import decode_trace
from _common import ecdf_of_targets
from _common import encode_trace
from _common import limit_threads
from _common import log10_regret
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


FUNCTION_NAMES = {
    1: "sphere",
    2: "ellipsoid",
    3: "Rastrigin",
    4: "Büche-Rastrigin",
    5: "linear slope",
    6: "attractive sector",
    7: "step ellipsoid",
    8: "Rosenbrock",
    9: "Rosenbrock rotated",
    10: "ellipsoid rotated",
    11: "discus",
    12: "bent cigar",
    13: "sharp ridge",
    14: "different powers",
    15: "Rastrigin rotated",
    16: "Weierstrass",
    17: "Schaffer F7",
    18: "Schaffer F7 ill-cond.",
    19: "Griewank-Rosenbrock",
    20: "Schwefel",
    21: "Gallagher 101 peaks",
    22: "Gallagher 21 peaks",
    23: "Katsuura",
    24: "Lunacek bi-Rastrigin",
}
TARGETS = 10.0 ** np.linspace(2, -8, 51)
"""COCO's regret targets for the runtime ECDF."""
STANDARD_BUDGETS = (25, 50, 100, 300)
QUICK_FUNCTIONS = (1, 8, 15, 21)
COLUMNS = (
    "sampler",
    "function",
    "dim",
    "instance",
    "seed",
    "n_trials",
    "seconds",
    "regret_trace",
)
KEY_COLUMNS = ("sampler", "function", "dim", "instance", "seed", "n_trials")
PROBLEM = ("function", "dim", "instance")


@dataclass(frozen=True)
class Run:
    """One study: a sampler with a seed on one BBOB problem."""

    sampler: str
    function: int
    dim: int
    instance: int
    seed: int
    n_trials: int


def run_length(dim: int, trials: int, dim_budget: bool) -> int:
    """Trials per run: ``max(trials, 10 * dim + 50)``, or ``trials`` without the rule."""
    return max(trials, 10 * dim + 50) if dim_budget else trials


def budgets(n_trials: int) -> list[int]:
    """The trial counts reported for runs of ``n_trials``: those of 25, 50, 100, 300 that fit,
    and the end."""
    chosen = [b for b in STANDARD_BUDGETS if b <= n_trials]
    if n_trials not in chosen:
        chosen.append(n_trials)
    return chosen


def run_one(run: Run) -> dict[str, Any]:
    """Run one study and return its CSV row (best regret after each trial)."""
    import cocoex

    quiet()
    problem = cocoex.BareProblem("bbob", run.function, run.dim, run.instance)
    f_opt = float(problem.best_value())
    names = [f"x{i}" for i in range(run.dim)]

    def objective(trial: optuna.Trial) -> float:
        x = np.array([trial.suggest_float(name, -5.0, 5.0) for name in names])
        return float(problem(x))

    study = optuna.create_study(sampler=make_sampler(run.sampler, run.seed))
    start = time.perf_counter()
    study.optimize(objective, n_trials=run.n_trials)
    seconds = time.perf_counter() - start
    values = [t.value if t.value is not None else float("nan") for t in study.trials]
    regret = np.maximum(best_so_far(values) - f_opt, 0.0)
    return {**asdict(run), "seconds": round(seconds, 3), "regret_trace": encode_trace(regret)}


def plan(args: argparse.Namespace) -> list[Run]:
    """Every run the arguments ask for."""
    return [
        Run(sampler, function, dim, instance, seed, run_length(dim, args.trials, args.dim_budget))
        for dim in args.dims
        for function in args.functions
        for instance in args.instances
        for seed in args.seeds
        for sampler in args.samplers
    ]


def load_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV rows with ``regret_trace`` decoded into arrays; the longest run per key wins."""
    if frame.empty:
        return frame
    frame = frame.copy()
    frame["regret"] = [decode_trace(cell) for cell in frame["regret_trace"]]
    frame = frame.sort_values("n_trials").drop_duplicates(
        subset=["sampler", *PROBLEM, "seed"], keep="last"
    )
    return frame.reset_index(drop=True)


def at_budget(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Per (problem, sampler): mean over seeds of the log10 regret after ``budget`` trials."""
    usable = runs[runs["n_trials"] >= budget]
    rows = usable[["sampler", *PROBLEM]].copy()
    rows["value"] = [float(log10_regret(trace[budget - 1])) for trace in usable["regret"]]
    return rows.groupby(["sampler", *PROBLEM], as_index=False)["value"].mean()


def rank_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean rank per sampler (rows) for each dimension and budget (columns), and all dims."""
    columns: dict[str, pd.Series] = {}
    for dim in sorted(runs["dim"].unique()):
        in_dim = runs[runs["dim"] == dim]
        for budget in budgets(int(in_dim["n_trials"].min())):
            columns[f"D={dim} @{budget}"] = mean_ranks(at_budget(in_dim, budget), problem=PROBLEM)
    for budget in budgets(final_budget(runs)):
        columns[f"all @{budget}"] = mean_ranks(at_budget(runs, budget), problem=PROBLEM)
    table = pd.DataFrame(columns)
    table.index.name = "sampler"
    return table.loc[sampler_order(table.index)]


def final_budget(runs: pd.DataFrame) -> int:
    """The budget every run reaches: the shortest run's length."""
    return int(runs["n_trials"].min())


def ecdf_figure(runs: pd.DataFrame, path: Path) -> None:
    """COCO-style runtime ECDF per dimension, one line per sampler."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted(runs["dim"].unique())
    fig, axes = plt.subplots(1, len(dims), figsize=(5 * len(dims), 4), squeeze=False)
    for ax, dim in zip(axes[0], dims, strict=True):
        in_dim = runs[runs["dim"] == dim]
        length = int(in_dim["n_trials"].min())
        for sampler in sampler_order(in_dim["sampler"].unique()):
            traces = np.stack([t[:length] for t in in_dim[in_dim["sampler"] == sampler]["regret"]])
            ax.step(
                np.arange(1, length + 1),
                ecdf_of_targets(traces, TARGETS),
                where="post",
                label=f"{sampler} ({len(traces)} runs)",
                linewidth=2.5 if sampler == BASELINE else 1.3,
            )
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("trials")
        ax.set_ylabel("fraction of (run, target) pairs reached")
        n_functions = in_dim["function"].nunique()
        ax.set_title(f"BBOB D={dim}, {n_functions} functions, targets 1e2..1e-8")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compact(values: pd.Series) -> str:
    """Sorted distinct integers with runs shortened: ``1-3, 5``."""
    numbers = sorted(int(v) for v in values.unique())
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)


def report(store: ResultStore, out: Path, stem: str) -> str:
    """Write ``<stem>.md`` and ``<stem>_ecdf.png`` from the CSV; return the Markdown."""
    runs = load_runs(store.read())
    if runs.empty:
        raise SystemExit(f"No runs in {store.path}.")
    budget = final_budget(runs)
    final = at_budget(runs, budget)
    ranks = rank_table(runs)
    wins = win_rates(final, problem=PROBLEM)
    order = sampler_order(wins.index)
    wins = wins.loc[order, order]
    wins.index.name = f"A \\ B @{budget}"

    baseline_rows: dict[str, pd.Series] = {}
    for dim in sorted(runs["dim"].unique()):
        per_dim = win_rates(final[final["dim"] == dim], problem=PROBLEM)
        if BASELINE in per_dim.index:
            baseline_rows[f"D={dim}"] = per_dim.loc[BASELINE].drop(BASELINE)
    baseline = pd.DataFrame(baseline_rows).T
    baseline.index.name = f"{BASELINE} wins vs"

    per_function = final.pivot_table(
        index=["dim", "function"], columns="sampler", values="value", aggfunc="mean"
    )[order]
    per_function.index = [f"D={d} f{f} {FUNCTION_NAMES[f]}" for d, f in per_function.index]
    per_function.index.name = "problem (mean over instances)"

    cost = runs.pivot_table(index="sampler", columns="dim", values="seconds", aggfunc="mean")
    cost = cost.loc[sampler_order(cost.index)]
    cost.columns = [f"D={d}" for d in cost.columns]
    cost.index.name = "seconds per run"
    seeds = runs.groupby("sampler")["seed"].nunique().rename("seeds")
    counts = runs.groupby("sampler").size().rename("runs")
    coverage = pd.concat([counts, seeds], axis=1).loc[sampler_order(counts.index)]
    coverage.index.name = "sampler"

    ecdf_path = out / f"{stem}_ecdf.png"
    ecdf_figure(runs, ecdf_path)
    description = (
        "Sampler comparison on COCO's BBOB suite (`cocoex`), "
        f"functions {compact(runs['function'])}; dimensions {compact(runs['dim'])}; "
        f"instances {compact(runs['instance'])}; seeds {compact(runs['seed'])}. "
        "Values are log10 of the best regret f - f_opt, floored at -8; a problem's value is the "
        "mean over its seeds. Mean rank: 1 is best. See `benchmarks/README.md`."
    )
    text = report_header("BBOB benchmark", description, len(runs), store.history())
    text += "\n## Mean rank (lower is better)\n\n" + to_markdown(ranks, floatfmt=".2f")
    text += f"\n## {BASELINE} win rate, per dimension, at {budget} trials\n\n"
    text += to_markdown(baseline, floatfmt=".2f")
    text += f"\n## Pairwise win rates at {budget} trials (row beats column)\n\n"
    text += to_markdown(wins, floatfmt=".2f")
    at_end = pd.concat(
        [at_budget(in_dim, int(in_dim["n_trials"].min())) for _, in_dim in runs.groupby("dim")]
    )
    text += (
        f"\n## {BASELINE} against each sampler, problem by problem, at the end of the runs\n\n"
        "Each dimension at its own run length (10·D + 50 trials unless `--trials` is longer); "
        "ties (equal mean log10 regret, e.g. both at the 1e-8 floor) are left out of the win "
        "rate and the tests.\n\n"
    )
    text += paired_markdown(paired(at_end, problem=PROBLEM, baseline=BASELINE), BASELINE) + "\n"
    text += f"\n## ECDF of targets reached\n\n![ECDF]({ecdf_path.name})\n"
    text += f"\n## Mean log10 regret at {budget} trials per problem\n\n"
    text += to_markdown(per_function, floatfmt=".2f")
    text += "\n## Runs and cost\n\n" + to_markdown(coverage, floatfmt=".0f")
    text += "\n" + to_markdown(cost, floatfmt=".2f")
    (out / f"{stem}.md").write_text(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` replaces the grid by a small one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, default_seeds=[0])
    parser.add_argument("--functions", nargs="+", type=int, default=list(range(1, 25)))
    parser.add_argument("--dims", nargs="+", type=positive_int, default=[2, 5])
    parser.add_argument("--instances", nargs="+", type=positive_int, default=[1, 2])
    parser.add_argument(
        "--trials", type=positive_int, default=100, help="trials per run (at least)"
    )
    parser.add_argument(
        "--no-dim-budget",
        dest="dim_budget",
        action="store_false",
        help="run exactly --trials trials, not max(--trials, 10*D+50)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        # The quick grid replaces the defaults; options given explicitly still win.
        parser.set_defaults(
            functions=list(QUICK_FUNCTIONS), instances=[1], trials=40, dim_budget=False
        )
        args = parser.parse_args(argv)
    bad = [f for f in args.functions if f not in FUNCTION_NAMES]
    if bad:
        parser.error(f"--functions must be in 1..24, got {bad}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the missing runs of the grid, appending to the CSV, then write the report."""
    args = parse_args(argv)
    quiet()
    limit_threads()
    run_and_report(
        args,
        "bbob",
        columns=COLUMNS,
        key_columns=KEY_COLUMNS,
        plan=plan,
        run_one=run_one,
        report=report,
    )


if __name__ == "__main__":
    main()
