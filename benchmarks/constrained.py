"""Samplers on constrained problems: COCO's bbob-constrained and four engineering designs.

Each run minimises ``f(x)`` subject to ``g_j(x) <= 0`` with one sampler and one seed. Every trial
reports each constraint value with ``trial.set_constraint(f"c{j:02d}", g_j)`` (Optuna 5's
``Trial.set_constraint``; a trial is feasible when all its values are ``<= 0``) and returns
``f(x)``, feasible or not. Problems:

- **bbob-constrained** from PyPI's ``coco-experiment`` (module ``cocoex``, offline, no
  observer): ``cocoex.Suite("bbob-constrained", "instances: I", "dimensions: D
  function_indices: F")`` in D = 2, 5, 10, box [-5, 5]^D; constraints from
  ``problem.constraint(x)``. Function F combines objective ``ceil(F / 6)`` (sphere, separable
  ellipsoid, linear slope, rotated ellipsoid, discus, bent cigar, different powers, separable
  Rastrigin, rotated Rastrigin) with the ``(F - 1) % 6``-th of 1, 3, 9, 9 + 3D/4, 9 + 3D/2 and
  9 + 9D/2 linear constraints (non-linearly perturbed). The default takes the 1- and
  9-constraint variants of each objective (F = 1, 3, 7, 9, ..., 49, 51).
- **Engineering** (``_engineering.py``, standard formulations and best known values with their
  sources): pressure vessel (4 variables, 4 constraints), welded beam (4, 7), tension/compression
  spring (3, 4), speed reducer (7 with one integer, 11).

**How each sampler gets the constraints.** In Optuna 5 the ``constraints_func`` argument of
``TPESampler``, ``GPSampler`` and ``NSGAIISampler`` is deprecated (since 5.0, to be removed in
7.0): it only stores its values in the trial's system attributes, where ``trial.constraints``
also finds those of ``Trial.set_constraint``, and each of these samplers reads
``trial.constraints`` itself (TPE ranks every feasible trial before every infeasible one, and
infeasible ones by their total violation, when it splits good from bad trials; GPSampler fits
one GP per constraint and multiplies its expected improvement over the best feasible value by
the probability of feasibility; NSGA-II ranks by constrained domination). So ``set_constraint`` is
the one interface and every sampler gets the constraints the way it works best, with their
defaults otherwise. ``RandomSampler`` ignores them; ``RLSampler`` ignores them today and will
read the same values once it supports constraints.

**Metrics**, at 25, 50 and 100 trials, from the best *feasible* value found (none: no value):

- **log10 regret**: ``f_best - f_opt``, floored at 1e-8 as in ``bbob.py``, where ``f_opt`` is
  the value at the optimum COCO built the problem around (read with ``cocoex``'s private
  ``Problem._best_parameter("print")``, which writes the point to a file in the working
  directory, run in a temporary one; ``cocoex`` 2.8's ``Problem`` has no working
  ``final_target_fvalue1`` or best value). The point is feasible, and neither 3,000 uniform
  points nor 300 small perturbations of it beat it, in every problem of D = 2, 5, 10, instances
  1-2; were it ever unavailable the problem is ranked by the best value alone. For the
  engineering problems the regret is relative, ``(f_best - f*) / f*``, to the best known value.
- **Feasible**: the fraction of runs that found a feasible point.
- **Mean rank**: within a problem, samplers are ordered by the fraction of their runs that found
  a feasible point first and by the mean log10 regret of those runs second; ranks are averaged
  per group (bbob-constrained per dimension, engineering) and over all. **Win rates** by the
  same order, as in ``bbob.py``; a per-problem table; ``constrained_ecdf.png``: the fraction of
  (run, target) pairs reached (targets 10^2 .. 10^-8 on the regret) and of runs with a feasible
  point.

Run::

    python benchmarks/constrained.py --quick   # 2 COCO problems (D=2) and the spring; 40 trials
    python benchmarks/constrained.py           # 18 functions x D 2, 5, 10 + 4 engineering, 3 seeds

Measured per 100-trial run, one thread, on 2 shared cores (load 4-8): RandomSampler and
NSGAIISampler under 0.1 s, TPESampler 0.2-0.3 s, RLSampler 0.2-1 s, GPSampler 3 minutes (D=2,
1 constraint), 7 (speed reducer, 11 constraints) and 11 (D=10, 9 constraints): it fits one GP
per constraint. The default's 174 GPSampler runs take about 15 hours of one such core, the
others minutes; GPSampler on fewer seeds (the report averages each sampler over the seeds it
has) keeps it to about 5::

    python benchmarks/constrained.py --samplers RLSampler TPESampler NSGAIISampler RandomSampler
    python benchmarks/constrained.py --samplers GPSampler --seeds 0

Outputs in ``benchmarks/results/``: ``constrained.csv`` (one row per run: the best feasible value
after each trial, ``f_opt`` and the number of feasible trials), ``constrained.md`` and
``constrained_ecdf.png``; ``--quick`` writes ``constrained_quick.*``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
import math
import os
from pathlib import Path
import tempfile
import time
from typing import Any
from typing import NamedTuple

from _cli import positive_int
from _common import BASELINE
from _common import ResultStore
from _common import SuiteRun as Run
from _common import add_common_arguments
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
from _engineering import PROBLEMS as ENGINEERING
import numpy as np
import optuna
import pandas as pd


COCO = "bbob-constrained"
ENGINEERING_SUITE = "engineering"
SUITES = (COCO, ENGINEERING_SUITE)
OBJECTIVE_NAMES = (
    "sphere",
    "ellipsoid",
    "linear slope",
    "ellipsoid rotated",
    "discus",
    "bent cigar",
    "different powers",
    "Rastrigin",
    "Rastrigin rotated",
)
"""bbob-constrained function F has objective ``OBJECTIVE_NAMES[(F - 1) // 6]``."""
N_FUNCTIONS = 6 * len(OBJECTIVE_NAMES)
DEFAULT_FUNCTIONS = tuple(f for f in range(1, N_FUNCTIONS + 1) if (f - 1) % 6 in (0, 2))
QUICK_FUNCTIONS = (1, 45)
QUICK_PROBLEMS = ("spring",)
DEFAULT_SAMPLERS = ("RLSampler", "TPESampler", "GPSampler", "NSGAIISampler", "RandomSampler")
TARGETS = 10.0 ** np.linspace(2, -8, 51)
STANDARD_BUDGETS = (25, 50, 100)
COLUMNS = (
    "sampler",
    "suite",
    "problem",
    "dim",
    "instance",
    "seed",
    "n_trials",
    "n_constraints",
    "f_opt",
    "feasible_trials",
    "seconds",
    "best_trace",
)
KEY_COLUMNS = ("sampler", "suite", "problem", "dim", "instance", "seed", "n_trials")
PROBLEM = ("suite", "problem", "dim", "instance")


class Problem(NamedTuple):
    """What a run needs: objective, constraints, box, integer variables, optimum (or NaN)."""

    objective: Callable[[np.ndarray], float]
    constraints: Callable[[np.ndarray], np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    f_opt: float


def coco_optimum(problem: Any) -> float:
    """The objective at the constrained optimum of a bbob-constrained problem, or NaN.

    ``cocoex`` 2.8 gives the point only through ``Problem._best_parameter("print")``, which
    writes it to ``._bbob_problem_best_parameter.txt`` in the working directory: it runs in a
    temporary one (worker processes each have their own). The point must be feasible.
    """
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            problem._best_parameter("print")
            path = Path(folder) / "._bbob_problem_best_parameter.txt"
            x = np.loadtxt(path, ndmin=1) if path.exists() else np.empty(0)
        finally:
            os.chdir(previous)
    if x.shape != (problem.dimension,) or np.any(np.asarray(problem.constraint(x)) > 0):
        return math.nan
    return float(problem(x))


def coco_problem(function: int, dim: int, instance: int) -> Problem:
    """bbob-constrained function ``function`` (1..54) in ``dim`` dimensions."""
    import cocoex

    suite = cocoex.Suite(
        COCO, f"instances: {instance}", f"dimensions: {dim} function_indices: {function}"
    )
    problem = suite[0]

    def objective(x: np.ndarray) -> float:
        return float(problem(x))

    def constraints(x: np.ndarray) -> np.ndarray:
        return np.asarray(problem.constraint(x), dtype=float)

    lower = np.asarray(problem.lower_bounds, dtype=float)
    upper = np.asarray(problem.upper_bounds, dtype=float)
    integer = np.zeros(dim, dtype=bool)
    return Problem(objective, constraints, lower, upper, integer, coco_optimum(problem))


def make_problem(run: Run) -> Problem:
    """The problem of a run."""
    if run.suite == COCO:
        return coco_problem(int(run.problem.lstrip("f")), run.dim, run.instance)
    design = ENGINEERING[run.problem]
    return Problem(
        design.objective,
        design.constraints,
        design.lower,
        design.upper,
        design.integer,
        design.best_value,
    )


def make_objective(problem: Problem, feasible: list[bool]) -> Callable[[optuna.Trial], float]:
    """The study's objective: suggests x, reports every ``g_j(x)`` with
    ``trial.set_constraint(f"c{j:02d}", ...)``, appends whether x is feasible to ``feasible``
    and returns ``f(x)``."""
    names = [f"x{i}" for i in range(len(problem.lower))]

    def suggest(trial: optuna.Trial, i: int) -> float:
        low, high = problem.lower[i], problem.upper[i]
        if problem.integer[i]:
            return float(trial.suggest_int(names[i], int(low), int(high)))
        return trial.suggest_float(names[i], float(low), float(high))

    def objective(trial: optuna.Trial) -> float:
        x = np.array([suggest(trial, i) for i in range(len(names))])
        values = problem.constraints(x)
        for j, value in enumerate(values):
            trial.set_constraint(f"c{j:02d}", float(value))
        feasible.append(bool(np.all(values <= 0)))
        return problem.objective(x)

    return objective


def run_one(run: Run) -> dict[str, Any]:
    """Run one study and return its CSV row: the best feasible value after each trial."""
    quiet()
    problem = make_problem(run)
    feasible: list[bool] = []
    study = optuna.create_study(sampler=make_sampler(run.sampler, run.seed))
    start = time.perf_counter()
    study.optimize(make_objective(problem, feasible), n_trials=run.n_trials)
    seconds = time.perf_counter() - start
    values = [
        t.value if t.value is not None and ok else math.inf
        for t, ok in zip(study.trials, feasible, strict=True)
    ]
    return {
        **asdict(run),
        "n_constraints": len(study.trials[0].constraints) if study.trials else 0,
        "f_opt": problem.f_opt,
        "feasible_trials": int(sum(feasible)),
        "seconds": round(seconds, 3),
        "best_trace": encode_trace(np.minimum.accumulate(values)),
    }


def plan(args: argparse.Namespace) -> list[Run]:
    """Every run the arguments ask for."""
    problems: list[tuple[str, str, int, int]] = []
    if COCO in args.suites:
        problems += [
            (COCO, f"f{function:02d}", dim, instance)
            for dim in args.dims
            for function in args.functions
            for instance in args.instances
        ]
    if ENGINEERING_SUITE in args.suites:
        problems += [(ENGINEERING_SUITE, name, ENGINEERING[name].dim, 1) for name in args.problems]
    return [
        Run(sampler, suite, problem, dim, instance, seed, args.trials)
        for suite, problem, dim, instance in problems
        for seed in args.seeds
        for sampler in args.samplers
    ]


def group_of(suite: str, dim: int) -> str:
    """The tables' groups: bbob-constrained per dimension, engineering whole."""
    return f"{COCO} D={dim}" if suite == COCO else ENGINEERING_SUITE


def regret(best: np.ndarray, suite: str, f_opt: float) -> np.ndarray:
    """Best-so-far regret: absolute for COCO, relative for engineering; inf while infeasible,
    NaN for every trial when ``f_opt`` is unknown."""
    if not math.isfinite(f_opt):
        return np.full(len(best), np.nan)
    gap = np.maximum(best - f_opt, 0.0)
    return gap / abs(f_opt) if suite == ENGINEERING_SUITE else gap


def load_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV rows with the best-value traces decoded and regret traces added."""
    if frame.empty:
        return frame
    frame = frame.copy()
    frame["best"] = [decode_trace(cell) for cell in frame["best_trace"]]
    frame["regret"] = [
        regret(best, suite, float(f_opt))
        for best, suite, f_opt in zip(frame["best"], frame["suite"], frame["f_opt"], strict=True)
    ]
    frame["group"] = [
        group_of(s, int(d)) for s, d in zip(frame["suite"], frame["dim"], strict=True)
    ]
    frame = frame.sort_values("n_trials").drop_duplicates(
        subset=["sampler", *PROBLEM, "seed"], keep="last"
    )
    return frame.reset_index(drop=True)


def budgets(n_trials: int) -> list[int]:
    """25, 50, 100 where they fit, and the run length."""
    chosen = [b for b in STANDARD_BUDGETS if b <= n_trials]
    if n_trials not in chosen:
        chosen.append(n_trials)
    return chosen


def run_value(best: float, regret_value: float) -> float:
    """What ranks a run: log10 regret (floored at -8) when the optimum is known, else the best
    value; ``inf`` without a feasible point."""
    if not math.isfinite(best):
        return math.inf
    if math.isnan(regret_value):
        return best
    return float(log10_regret(regret_value))


def at_budget(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Per (problem, sampler) after ``budget`` trials: ``feasible``, the fraction of runs with a
    feasible point; ``regret``, the mean run value of those runs (NaN if none); and ``value``,
    which orders samplers within a problem by ``feasible`` first and ``regret`` second (lower
    is better; ``inf`` when no run is feasible), for :func:`_common.mean_ranks` and
    :func:`_common.win_rates`."""
    usable = runs[runs["n_trials"] >= budget]
    rows = usable[["sampler", "group", *PROBLEM]].copy()
    rows["regret"] = [
        run_value(float(best[budget - 1]), float(reg[budget - 1]))
        for best, reg in zip(usable["best"], usable["regret"], strict=True)
    ]
    rows["feasible"] = np.isfinite(rows["regret"]).astype(float)
    rows["regret"] = rows["regret"].where(rows["feasible"] > 0)
    rows = rows.groupby(["sampler", "group", *PROBLEM], as_index=False)[
        ["regret", "feasible"]
    ].mean()
    # Within a problem the regrets are shifted into [0, span) and a share of infeasible runs
    # costs it times span * 1e6: two shares differ by at least 1 / (seeds x seeds') when they
    # differ, so any difference in feasibility outweighs any difference in regret.
    by_problem = rows.groupby(list(PROBLEM))["regret"]
    low = by_problem.transform("min")
    span = (by_problem.transform("max") - low).fillna(0.0) + 1.0
    rows["value"] = (1.0 - rows["feasible"]) * span * 1e6 + (rows["regret"] - low)
    rows.loc[rows["feasible"] == 0, "value"] = math.inf
    return rows


def group_order(groups: pd.Series) -> list[str]:
    """bbob-constrained by dimension, then engineering."""
    present = set(groups)
    dims = sorted(int(g.split("D=")[1]) for g in present if g.startswith(COCO))
    ordered = [f"{COCO} D={d}" for d in dims] + [ENGINEERING_SUITE]
    return [g for g in ordered if g in present]


def budget_tables(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean rank and fraction of runs with a feasible point, per sampler, for each group and
    budget and over all."""
    ranks: dict[str, pd.Series] = {}
    feasible: dict[str, pd.Series] = {}
    selections = [(g, runs[runs["group"] == g]) for g in group_order(runs["group"])]
    for label, selection in [*selections, ("all", runs)]:
        for budget in budgets(int(selection["n_trials"].min())):
            rows = at_budget(selection, budget)
            ranks[f"{label} @{budget}"] = mean_ranks(rows, problem=PROBLEM)
            feasible[f"{label} @{budget}"] = rows.groupby("sampler")["feasible"].mean()
    tables = []
    for columns in (ranks, feasible):
        table = pd.DataFrame(columns)
        table.index.name = "sampler"
        tables.append(table.loc[sampler_order(table.index)])
    return tables[0], tables[1]


def problem_label(suite: str, problem: str, dim: int, n_constraints: int) -> str:
    """``D=5 f03 sphere, 9 constraints`` for COCO, the name for engineering."""
    if suite != COCO:
        return problem
    objective = OBJECTIVE_NAMES[(int(problem.lstrip("f")) - 1) // 6]
    return f"D={dim} {problem} {objective}, {n_constraints} constraint{'s' * (n_constraints != 1)}"


def per_problem_table(runs: pd.DataFrame, final: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Mean log10 regret per problem (the best value where the optimum is unknown) of the runs
    with a feasible point, the sampler's rank in the problem, and the share of feasible runs
    where not all are."""
    index = ["group", *PROBLEM]
    regrets = final.pivot_table(index=index, columns="sampler", values="regret", dropna=False)
    feasible = final.pivot_table(index=index, columns="sampler", values="feasible")[order]
    ranks = final.pivot_table(index=index, columns="sampler", values="value").rank(axis=1)
    constraints = runs.groupby(list(PROBLEM))["n_constraints"].first()
    groups = group_order(final["group"])
    rows = {}
    for key in sorted(feasible.index, key=lambda key: (groups.index(key[0]), key[1:])):
        _, suite, problem, dim, instance = key
        label = problem_label(suite, problem, dim, int(constraints.loc[key[1:]]))
        label += f" i{instance}" if suite == COCO else ""
        cells = []
        for sampler in order:
            share = feasible.loc[key, sampler]
            if np.isnan(share):
                cells.append("–")
                continue
            regret = regrets.loc[key, sampler]
            text = "no feasible point" if share == 0 else f"{regret:.2f}"
            text += f" ({ranks.loc[key, sampler]:.1f})"
            cells.append(text + ("" if share in (0.0, 1.0) else f" [{share:.0%} feasible]"))
        rows[label] = cells
    table = pd.DataFrame.from_dict(rows, orient="index", columns=order)
    table.index.name = "problem"
    return table


def ecdf_figure(runs: pd.DataFrame, path: Path) -> None:
    """Per group: the fraction of (run, regret target) pairs reached and the fraction of runs
    with a feasible point, against trials."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = group_order(runs["group"])
    fig, axes = plt.subplots(2, len(groups), figsize=(4.5 * len(groups), 7), squeeze=False)
    for column, group in enumerate(groups):
        in_group = runs[runs["group"] == group]
        length = int(in_group["n_trials"].min())
        trials = np.arange(1, length + 1)
        for sampler in sampler_order(in_group["sampler"].unique()):
            mine = in_group[in_group["sampler"] == sampler]
            width = 2.5 if sampler == BASELINE else 1.3
            regrets = np.stack([r[:length] for r in mine["regret"]])
            known = ~np.isnan(regrets[:, 0])
            if known.any():
                reached = ecdf_of_targets(regrets[known], TARGETS)
                axes[0][column].step(trials, reached, where="post", label=sampler, linewidth=width)
            found = np.mean([np.isfinite(b[:length]) for b in mine["best"]], axis=0)
            axes[1][column].step(trials, found, where="post", label=sampler, linewidth=width)
        top, bottom = axes[0][column], axes[1][column]
        n_problems = len(in_group.groupby(list(PROBLEM)))
        top.set_title(f"{group}, {n_problems} problem{'s' * (n_problems != 1)}", fontsize=10)
        top.set_ylabel("fraction of (run, target) pairs")
        bottom.set_ylabel("fraction of runs with a feasible point")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("trials")
            ax.grid(alpha=0.3)
        top.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(store: ResultStore, out: Path, stem: str) -> str:
    """Write ``<stem>.md`` and ``<stem>_ecdf.png`` from the CSV; return the Markdown."""
    runs = load_runs(store.read())
    if runs.empty:
        raise SystemExit(f"No runs in {store.path}.")
    length = int(runs["n_trials"].min())
    final = at_budget(runs, length)
    order = sampler_order(final["sampler"].unique())
    ranks, feasible = budget_tables(runs)
    wins = win_rates(final, problem=PROBLEM).loc[order, order]
    wins.index.name = f"A \\ B @{length}"
    figure = out / f"{stem}_ecdf.png"
    ecdf_figure(runs, figure)
    description = (
        "Constrained sampler comparison: COCO's bbob-constrained (`cocoex`) and four "
        "engineering design problems; every trial reports its constraints with "
        "`Trial.set_constraint`. Values are log10 of the best feasible regret (absolute for "
        "COCO, relative to the best known value for engineering), floored at -8, averaged over "
        "the seeds that found a feasible point. Within a problem, samplers rank by the share of "
        "runs with a feasible point first, then by that mean; rank 1 is best. See "
        "`benchmarks/README.md`."
    )
    text = report_header("Constrained benchmark", description, len(runs), store.history())
    text += "\n## Mean rank (lower is better)\n\n" + to_markdown(ranks, floatfmt=".2f")
    text += "\n## Fraction of runs with a feasible point\n\n" + to_markdown(
        feasible, floatfmt=".2f"
    )
    text += baseline_section(final, length)
    text += f"\n## Pairwise win rates at {length} trials (row beats column)\n\n"
    text += to_markdown(wins, floatfmt=".2f")
    text += f"\n## Targets reached and feasibility against trials\n\n![ECDF]({figure.name})\n"
    text += f"\n## Mean log10 regret at {length} trials per problem (rank in the problem)\n\n"
    text += to_markdown(per_problem_table(runs, final, order))
    text += "\n## Runs and cost\n\n" + to_markdown(cost_table(runs), floatfmt=".2f")
    (out / f"{stem}.md").write_text(text)
    return text


def baseline_section(final: pd.DataFrame, length: int) -> str:
    """RLSampler's win rates per group, or why there are none."""
    rows: dict[str, pd.Series] = {}
    for group in group_order(final["group"]):
        per_group = win_rates(final[final["group"] == group], problem=PROBLEM)
        if BASELINE in per_group.index:
            rows[group] = per_group.loc[BASELINE].drop(BASELINE)
    title = f"\n## {BASELINE} win rate per group at {length} trials\n\n"
    if not rows:
        return title + f"No {BASELINE} runs.\n"
    table = pd.DataFrame(rows).T
    table.index.name = f"{BASELINE} wins vs"
    return title + to_markdown(table, floatfmt=".2f")


def cost_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs, seeds, share of feasible trials and mean seconds per run, per sampler and group."""
    cost = runs.pivot_table(index="sampler", columns="group", values="seconds", aggfunc="mean")
    cost = cost[group_order(runs["group"])]
    cost.columns = [f"s/run {group}" for group in cost.columns]
    shares = runs["feasible_trials"] / runs["n_trials"]
    cost.insert(0, "runs", runs.groupby("sampler").size())
    cost.insert(1, "seeds", runs.groupby("sampler")["seed"].nunique())
    cost.insert(2, "feasible trials", shares.groupby(runs["sampler"]).mean())
    cost = cost.loc[sampler_order(cost.index)]
    cost.index.name = "sampler"
    return cost


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` replaces the grid by a small one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, default_seeds=[0, 1, 2], default_samplers=DEFAULT_SAMPLERS)
    parser.add_argument("--suites", nargs="+", default=list(SUITES), choices=SUITES)
    parser.add_argument(
        "--functions",
        nargs="+",
        type=int,
        default=list(DEFAULT_FUNCTIONS),
        help=f"bbob-constrained function indices, 1..{N_FUNCTIONS}",
    )
    parser.add_argument("--dims", nargs="+", type=positive_int, default=[2, 5, 10], help="COCO")
    parser.add_argument("--instances", nargs="+", type=positive_int, default=[1], help="COCO")
    parser.add_argument(
        "--problems",
        nargs="+",
        default=list(ENGINEERING),
        choices=list(ENGINEERING),
        metavar="NAME",
        help=f"engineering problems (default: {' '.join(ENGINEERING)})",
    )
    parser.add_argument("--trials", type=positive_int, default=100, help="trials per run")
    args = parser.parse_args(argv)
    if args.quick:
        # The quick grid replaces the defaults; options given explicitly still win.
        parser.set_defaults(
            functions=list(QUICK_FUNCTIONS),
            dims=[2],
            problems=list(QUICK_PROBLEMS),
            seeds=[0],
            trials=40,
        )
        args = parser.parse_args(argv)
    bad = [f for f in args.functions if not 1 <= f <= N_FUNCTIONS]
    if bad:
        parser.error(f"--functions must be in 1..{N_FUNCTIONS}, got {bad}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the missing runs of the grid, appending to the CSV, then write the report."""
    args = parse_args(argv)
    quiet()
    limit_threads()
    run_and_report(
        args,
        "constrained",
        columns=COLUMNS,
        key_columns=KEY_COLUMNS,
        plan=plan,
        run_one=run_one,
        report=report,
    )


if __name__ == "__main__":
    main()
