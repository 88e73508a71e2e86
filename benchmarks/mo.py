"""Multi-objective samplers compared by hypervolume: COCO's bbob-biobj, ZDT, DTLZ and WFG.

Each run minimises one problem's objectives with one sampler and one seed; the parameters are
``x0 .. x{n-1}`` as ``suggest_float`` over the problem's box. Problems:

- **bbob-biobj** from PyPI's ``coco-experiment`` (module ``cocoex``, offline, no observer):
  ``cocoex.Suite("bbob-biobj", "instances: I", "dimensions: D function_indices: F")``, D = 2, 5
  and 10; each of its 55 functions pairs two of the bbob functions 1, 2, 6, 8, 13, 14, 15, 17, 20,
  21 (in ``cocoex``'s ``problem.name``, e.g. ``bbob_f001_i02_d02__bbob_f021_i04_d02``). The box is
  [-5, 5]^D, as in ``bbob.py``: ``cocoex`` declares [-100, 100]^D for this suite, but both
  single-objective optima lie in [-4, 4]^D, and in the wider box 200 uniform points reach the
  reference box (below) on 3 of the 15 default functions in D = 2 and on none in D = 5 or 10
  (in [-5, 5]^D: 15, 15 and 14).
- **ZDT1-4, ZDT6** (2 objectives), **DTLZ1-4, DTLZ7** (3 objectives) and **WFG1-9**
  (2 objectives), implemented in ``_mo_problems.py`` and ``_wfg.py`` at their papers' sizes
  (n = 30, 10, 7-22 and 24).

**Hypervolume, comparable across samplers.** Every problem has fixed bounds: for bbob-biobj
COCO's own normalisation, the ideal point (the two single-objective optima, ``best_value()`` of
the two ``cocoex.BareProblem``s named in ``problem.name``) and the nadir point
(``problem.largest_fvalues_of_interest``: each objective at the other's optimum); for the formula
problems the ideal and nadir points of the true Pareto front. Objectives are normalised to
``(f - ideal) / (nadir - ideal)`` and the hypervolume is taken with the reference point
(1.1, ..., 1.1) (Optuna's exact ``optuna._hypervolume.compute_hypervolume``). As COCO does, a run
with no point inside the reference box scores minus the smallest Euclidean distance of its
points to the box, so that early or hard runs still rank. Metrics, at 50, 100 and 200 trials:

- **Mean rank** by hypervolume (1 is best), per group (bbob-biobj per dimension, ZDT, DTLZ,
  WFG) and over all problems; a problem's value is the mean over its seeds.
- **Win rates**: the fraction of problems where A's mean hypervolume is higher than B's, a tie
  counting half; RLSampler's row per group.
- Per-problem mean hypervolume, and ``mo_hypervolume.png``: mean hypervolume against trials.

**Unsupported samplers.** A sampler that rejects multi-objective studies (RLSampler today,
CmaEsSampler) raises ``ValueError`` on the first trial. The run is then recorded with status
``unsupported`` and the error message, without numbers, and the report lists it apart. Such runs
do not count as done: every invocation tries them again (a fraction of a second each), so the
same command measures RLSampler once it supports several objectives.

Run::

    python benchmarks/mo.py --quick   # bbob-biobj f1 (D=2), ZDT1, DTLZ2, WFG4; 40 trials
    python benchmarks/mo.py           # 15 bbob-biobj functions x D 2, 5, 10 x 2 instances + 19

Measured per 200-trial run, one thread, on 2 shared cores (load 4-8): NSGAIISampler and
RandomSampler 0.1-0.2 s, QMCSampler up to 2 s, TPESampler 3-6 s, GPSampler 1.6 minutes (ZDT1),
3 (DTLZ2, 3 objectives), 3.6 (bbob-biobj D=2) and 8 (D=10); RLSampler and CmaEsSampler refuse
at once. GPSampler is nearly all of the default's time, about 9 hours of one such core for its
109 runs; the others take minutes. Split it like the other scripts::

    python benchmarks/mo.py --samplers RLSampler NSGAIISampler TPESampler RandomSampler QMCSampler
    python benchmarks/mo.py --samplers GPSampler

Outputs in ``benchmarks/results/``: ``mo.csv`` (one row per run: status and the hypervolume
after each trial), ``mo.md`` and ``mo_hypervolume.png``; ``--quick`` writes ``mo_quick.*``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
import itertools
import math
from pathlib import Path
import re
import time
from typing import Any
from typing import NamedTuple

from _cli import positive_int
from _common import BASELINE
from _common import ResultStore
from _common import SuiteRun as Run
from _common import add_common_arguments
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
from _mo_problems import PROBLEMS as FORMULA_PROBLEMS
from bbob import FUNCTION_NAMES
import numpy as np
import optuna
import pandas as pd


BIOBJ = "bbob-biobj"
SUITES = (BIOBJ, "zdt", "dtlz", "wfg")
BIOBJ_BASE_FUNCTIONS = (1, 2, 6, 8, 13, 14, 15, 17, 20, 21)
BIOBJ_PAIRS = list(itertools.combinations_with_replacement(BIOBJ_BASE_FUNCTIONS, 2))
"""bbob-biobj function f (1..55) pairs the bbob functions ``BIOBJ_PAIRS[f - 1]``."""
DEFAULT_BIOBJ_FUNCTIONS = (1, 2, 10, 11, 20, 28, 31, 35, 38, 41, 46, 49, 50, 53, 55)
"""The ten pairs of a function with itself (one per landscape: sphere to Gallagher) and five
mixed pairs (sphere/ellipsoid, sphere/Gallagher, Rosenbrock/Rastrigin, sharp
ridge/Schaffer, Rastrigin/Gallagher)."""
QUICK_BIOBJ_FUNCTIONS = (1,)
QUICK_PROBLEMS = ("ZDT1", "DTLZ2", "WFG4")
BIOBJ_BOX = 5.0
REFERENCE = 1.1
"""The reference point's coordinates in normalised objective space (the nadir point is 1)."""
STANDARD_BUDGETS = (50, 100, 200)
DEFAULT_SAMPLERS = (
    "RLSampler",
    "NSGAIISampler",
    "TPESampler",
    "GPSampler",
    "RandomSampler",
    "QMCSampler",
)
COLUMNS = (
    "sampler",
    "suite",
    "problem",
    "dim",
    "instance",
    "seed",
    "n_trials",
    "status",
    "seconds",
    "hv_trace",
    "note",
)
KEY_COLUMNS = ("sampler", "suite", "problem", "dim", "instance", "seed", "n_trials")
PROBLEM = ("suite", "problem", "dim", "instance")


class Problem(NamedTuple):
    """What a run needs: objectives of one point, the box, and the normalisation bounds."""

    evaluate: Callable[[np.ndarray], np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    ideal: np.ndarray
    nadir: np.ndarray


def biobj_problem(function: int, dim: int, instance: int) -> Problem:
    """bbob-biobj function ``function`` (1..55) in ``dim`` dimensions: the box [-5, 5]^D and
    COCO's normalisation bounds."""
    import cocoex

    suite = cocoex.Suite(
        BIOBJ, f"instances: {instance}", f"dimensions: {dim} function_indices: {function}"
    )
    problem = suite[0]
    # "bbob_f001_i02_d02__bbob_f021_i04_d02": the two single-objective problems.
    parts = re.findall(r"bbob_f(\d+)_i(\d+)_d(\d+)", problem.name)
    ideal = np.array(
        [cocoex.BareProblem("bbob", int(f), int(d), int(i)).best_value() for f, i, d in parts]
    )
    nadir = np.asarray(problem.largest_fvalues_of_interest, dtype=float)

    def evaluate(x: np.ndarray) -> np.ndarray:
        return np.asarray(problem(x), dtype=float)

    box = np.full(dim, BIOBJ_BOX)
    return Problem(evaluate, -box, box, ideal, nadir)


def make_problem(run: Run) -> Problem:
    """The problem of a run."""
    if run.suite == BIOBJ:
        return biobj_problem(int(run.problem.lstrip("f")), run.dim, run.instance)
    formula = FORMULA_PROBLEMS[run.problem]
    return Problem(formula.evaluate, formula.lower, formula.upper, formula.ideal, formula.nadir)


def normalise(values: np.ndarray, ideal: np.ndarray, nadir: np.ndarray) -> np.ndarray:
    """Objective vectors mapped so that the ideal point is 0 and the nadir point is 1."""
    return (np.asarray(values, dtype=float) - ideal) / (nadir - ideal)


def hypervolume(front: np.ndarray, reference: np.ndarray) -> float:
    """Exact hypervolume dominated by ``front`` (minimised) below ``reference``.

    Points outside the reference box add nothing. The one place that calls Optuna's private
    hypervolume module (Optuna 5 has no public hypervolume function).
    """
    from optuna._hypervolume import compute_hypervolume

    front = np.asarray(front, dtype=float).reshape(-1, len(reference))
    inside = front[np.all(front <= reference, axis=1)]
    return float(compute_hypervolume(inside, reference)) if len(inside) else 0.0


def indicator_trace(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The quality indicator of the first n points, for every n.

    The hypervolume of those inside the reference box, or, while none is, minus the smallest
    Euclidean distance of a point to the box (COCO's convention). Rows with NaN (failed trials)
    change nothing.
    """
    points = np.asarray(points, dtype=float)
    trace = np.empty(len(points))
    front = np.empty((0, len(reference)))
    volume, distance = 0.0, math.inf
    for i, point in enumerate(points):
        if np.all(np.isfinite(point)):
            if np.all(point <= reference):
                if not np.any(np.all(front <= point, axis=1)):
                    front = np.vstack([front[~np.all(point <= front, axis=1)], point])
                    volume = hypervolume(front, reference)
            else:
                distance = min(distance, float(np.linalg.norm(np.maximum(point - reference, 0))))
        trace[i] = volume if len(front) else -distance
    return trace


def is_unsupported(error: ValueError) -> bool:
    """Whether a sampler refused the study for having several objectives.

    Optuna's ``BaseSampler._raise_error_if_multi_objective`` words it "If the study is being used
    for multi-objective optimization, <Sampler> cannot be used.", and RLSampler uses it.
    """
    return "multi-objective" in str(error)


def run_one(run: Run) -> dict[str, Any]:
    """Run one study and return its CSV row: the indicator after each trial, or "unsupported"."""
    quiet()
    problem = make_problem(run)
    names = [f"x{i}" for i in range(len(problem.lower))]
    bounds = list(zip(names, problem.lower.tolist(), problem.upper.tolist(), strict=True))

    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        x = np.array([trial.suggest_float(name, low, high) for name, low, high in bounds])
        return tuple(float(v) for v in problem.evaluate(x))

    directions = [optuna.study.StudyDirection.MINIMIZE] * len(problem.ideal)
    study = optuna.create_study(directions=directions, sampler=make_sampler(run.sampler, run.seed))
    start = time.perf_counter()
    try:
        study.optimize(objective, n_trials=run.n_trials)
    except ValueError as error:
        if not is_unsupported(error):
            raise
        seconds = time.perf_counter() - start
        row = {"status": "unsupported", "seconds": round(seconds, 3), "hv_trace": ""}
        return {**asdict(run), **row, "note": str(error)}
    seconds = time.perf_counter() - start
    values = np.array(
        [t.values if t.values is not None else [np.nan] * len(directions) for t in study.trials]
    )
    reference = np.full(len(directions), REFERENCE)
    trace = indicator_trace(normalise(values, problem.ideal, problem.nadir), reference)
    row = {"status": "ok", "seconds": round(seconds, 3), "hv_trace": encode_trace(trace)}
    return {**asdict(run), **row, "note": ""}


def plan(args: argparse.Namespace) -> list[Run]:
    """Every run the arguments ask for."""
    problems: list[tuple[str, str, int, int]] = []
    if BIOBJ in args.suites:
        problems += [
            (BIOBJ, f"f{function:02d}", dim, instance)
            for dim in args.dims
            for function in args.functions
            for instance in args.instances
        ]
    for name in args.problems:
        formula = FORMULA_PROBLEMS[name]
        if formula.family in args.suites:
            problems.append((formula.family, name, formula.dim, 1))
    return [
        Run(sampler, suite, problem, dim, instance, seed, args.trials)
        for suite, problem, dim, instance in problems
        for seed in args.seeds
        for sampler in args.samplers
    ]


def group_of(suite: str, dim: int) -> str:
    """The rank tables' groups: bbob-biobj per dimension, each formula family whole."""
    return f"{BIOBJ} D={dim}" if suite == BIOBJ else suite.upper()


def load_runs(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The finished runs with ``hv_trace`` decoded (the longest per key) and the unsupported."""
    if frame.empty:
        return frame, frame
    frame = frame.copy()
    unsupported = frame[frame["status"] == "unsupported"].reset_index(drop=True)
    runs = frame[frame["status"] == "ok"].copy()
    runs["hv"] = [decode_trace(cell) for cell in runs["hv_trace"]]
    runs["group"] = [group_of(s, int(d)) for s, d in zip(runs["suite"], runs["dim"], strict=True)]
    runs = runs.sort_values("n_trials").drop_duplicates(
        subset=["sampler", *PROBLEM, "seed"], keep="last"
    )
    return runs.reset_index(drop=True), unsupported


def budgets(n_trials: int) -> list[int]:
    """50, 100, 200 where they fit, and the run length."""
    chosen = [b for b in STANDARD_BUDGETS if b <= n_trials]
    if n_trials not in chosen:
        chosen.append(n_trials)
    return chosen


def at_budget(runs: pd.DataFrame, budget: int) -> pd.DataFrame:
    """Per (problem, sampler): mean over seeds of the indicator after ``budget`` trials.

    ``value`` is its negative, for :func:`_common.mean_ranks` and :func:`_common.win_rates`,
    where lower is better.
    """
    usable = runs[runs["n_trials"] >= budget]
    rows = usable[["sampler", "group", *PROBLEM]].copy()
    rows["hv"] = [float(trace[budget - 1]) for trace in usable["hv"]]
    rows = rows.groupby(["sampler", "group", *PROBLEM], as_index=False)["hv"].mean()
    rows["value"] = -rows["hv"]
    return rows


def group_order(groups: pd.Series) -> list[str]:
    """bbob-biobj by dimension first, then ZDT, DTLZ, WFG."""
    present = set(groups)
    dims = sorted(int(g.split("D=")[1]) for g in present if g.startswith(BIOBJ))
    ordered = [f"{BIOBJ} D={d}" for d in dims] + [s.upper() for s in SUITES[1:]]
    return [g for g in ordered if g in present]


def rank_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean hypervolume rank per sampler (rows) for each group and budget, and over all."""
    columns: dict[str, pd.Series] = {}
    for group in group_order(runs["group"]):
        in_group = runs[runs["group"] == group]
        for budget in budgets(int(in_group["n_trials"].min())):
            columns[f"{group} @{budget}"] = mean_ranks(
                at_budget(in_group, budget), problem=PROBLEM
            )
    for budget in budgets(int(runs["n_trials"].min())):
        columns[f"all @{budget}"] = mean_ranks(at_budget(runs, budget), problem=PROBLEM)
    table = pd.DataFrame(columns)
    table.index.name = "sampler"
    return table.loc[sampler_order(table.index)]


def problem_label(suite: str, problem: str, dim: int) -> str:
    """``D=2 f10 sphere/Gallagher 101 peaks`` for bbob-biobj, the name for the formulas."""
    if suite != BIOBJ:
        return f"{problem} (n={dim})"
    first, second = BIOBJ_PAIRS[int(problem.lstrip("f")) - 1]
    return f"D={dim} {problem} {FUNCTION_NAMES[first]}/{FUNCTION_NAMES[second]}"


def hypervolume_figure(runs: pd.DataFrame, path: Path) -> None:
    """Mean hypervolume (negative indicators counted as 0) against trials, one panel per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = group_order(runs["group"])
    n_cols = min(3, len(groups))
    n_rows = math.ceil(len(groups) / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(5 * n_cols, 3.6 * n_rows), squeeze=False)
    for ax, group in zip(axes.flat, groups, strict=False):
        in_group = runs[runs["group"] == group]
        length = int(in_group["n_trials"].min())
        for sampler in sampler_order(in_group["sampler"].unique()):
            traces = np.stack([t[:length] for t in in_group[in_group["sampler"] == sampler]["hv"]])
            ax.plot(
                np.arange(1, length + 1),
                np.maximum(traces, 0.0).mean(axis=0),
                label=f"{sampler} ({len(traces)} runs)",
                linewidth=2.5 if sampler == BASELINE else 1.3,
            )
        n_problems = len(in_group.groupby(list(PROBLEM)))
        ax.set_title(f"{group}, {n_problems} problem{'s' * (n_problems != 1)}", fontsize=10)
        ax.set_xlabel("trials")
        ax.set_ylabel("mean normalised hypervolume")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(groups) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def unsupported_table(unsupported: pd.DataFrame) -> pd.DataFrame:
    """Runs a sampler refused, per sampler, with the sampler's message."""
    table = unsupported.groupby("sampler").agg(runs=("seed", "size"), message=("note", "first"))
    table = table.loc[sampler_order(table.index)]
    table.index.name = "sampler"
    return table


def report(store: ResultStore, out: Path, stem: str) -> str:
    """Write ``<stem>.md`` and ``<stem>_hypervolume.png`` from the CSV; return the Markdown."""
    runs, unsupported = load_runs(store.read())
    if runs.empty and unsupported.empty:
        raise SystemExit(f"No runs in {store.path}.")
    description = (
        "Multi-objective sampler comparison by hypervolume: COCO's bbob-biobj (`cocoex`) and the "
        "ZDT, DTLZ and WFG formulas. Objectives are normalised by each problem's ideal and nadir "
        f"points; reference point {REFERENCE} in every objective; a run with no point inside "
        "the reference box scores minus its distance to it. A problem's value is the mean over "
        "its seeds; rank 1 is best. See `benchmarks/README.md`."
    )
    n_rows = len(runs) + len(unsupported)
    text = report_header("Multi-objective benchmark", description, n_rows, store.history())
    if not unsupported.empty:
        text += "\n## Samplers that refused multi-objective studies (no numbers recorded)\n\n"
        text += to_markdown(unsupported_table(unsupported))
    if runs.empty:
        (out / f"{stem}.md").write_text(text)
        return text
    text += "\n## Mean hypervolume rank (lower is better)\n\n"
    text += to_markdown(rank_table(runs), floatfmt=".2f")
    length = int(runs["n_trials"].min())
    final = at_budget(runs, length)
    order = sampler_order(final["sampler"].unique())
    text += baseline_section(final, length)
    wins = win_rates(final, problem=PROBLEM).loc[order, order]
    wins.index.name = f"A \\ B @{length}"
    text += f"\n## Pairwise win rates at {length} trials (row beats column)\n\n"
    text += to_markdown(wins, floatfmt=".2f")
    figure = out / f"{stem}_hypervolume.png"
    hypervolume_figure(runs, figure)
    text += f"\n## Hypervolume against trials\n\n![hypervolume]({figure.name})\n"
    text += f"\n## Mean hypervolume at {length} trials per problem (rank in the problem)\n\n"
    text += to_markdown(per_problem_table(final, order))
    text += "\n## Runs and cost\n\n" + to_markdown(cost_table(runs, unsupported), floatfmt=".2f")
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
        return title + f"No finished {BASELINE} runs.\n"
    table = pd.DataFrame(rows).T
    table.index.name = f"{BASELINE} wins vs"
    return title + to_markdown(table, floatfmt=".2f")


def per_problem_table(final: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Mean hypervolume per problem and sampler, with the sampler's rank in the problem."""
    values = final.pivot_table(index=["group", *PROBLEM], columns="sampler", values="hv")[order]
    ranks = values.rank(axis=1, ascending=False)
    groups = group_order(final["group"])
    keys = sorted(values.index, key=lambda key: (groups.index(key[0]), key[1:]))
    rows = {}
    for key in keys:
        _, suite, problem, dim, instance = key
        label = problem_label(suite, problem, dim) + (f" i{instance}" if suite == BIOBJ else "")
        rows[label] = [
            "–" if np.isnan(value) else f"{value:.3f} ({rank:.1f})"
            for value, rank in zip(values.loc[key], ranks.loc[key], strict=True)
        ]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=order)
    table.index.name = "problem"
    return table


def cost_table(runs: pd.DataFrame, unsupported: pd.DataFrame) -> pd.DataFrame:
    """Runs, seeds, refused runs and mean seconds per run of each sampler, per group."""
    names = sampler_order(set(runs["sampler"]) | set(unsupported["sampler"]))
    cost = runs.pivot_table(index="sampler", columns="group", values="seconds", aggfunc="mean")
    cost = cost[group_order(runs["group"])].reindex(names)
    cost.columns = [f"s/run {group}" for group in cost.columns]
    counts = {
        "runs": runs.groupby("sampler").size(),
        "seeds": runs.groupby("sampler")["seed"].nunique(),
        "unsupported": unsupported.groupby("sampler").size(),
    }
    for position, (column, series) in enumerate(counts.items()):
        cost.insert(position, column, series.reindex(names, fill_value=0).astype(int))
    cost.index.name = "sampler"
    return cost


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` replaces the grid by a small one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, default_seeds=[0], default_samplers=DEFAULT_SAMPLERS)
    parser.add_argument("--suites", nargs="+", default=list(SUITES), choices=SUITES)
    parser.add_argument(
        "--functions",
        nargs="+",
        type=int,
        default=list(DEFAULT_BIOBJ_FUNCTIONS),
        help="bbob-biobj function indices, 1..55",
    )
    parser.add_argument(
        "--dims", nargs="+", type=positive_int, default=[2, 5, 10], help="bbob-biobj"
    )
    parser.add_argument(
        "--instances", nargs="+", type=positive_int, default=[1, 2], help="bbob-biobj"
    )
    parser.add_argument(
        "--problems",
        nargs="+",
        default=list(FORMULA_PROBLEMS),
        choices=list(FORMULA_PROBLEMS),
        metavar="NAME",
        help="formula problems (default: all of ZDT, DTLZ, WFG)",
    )
    parser.add_argument("--trials", type=positive_int, default=200, help="trials per run")
    args = parser.parse_args(argv)
    if args.quick:
        # The quick grid replaces the defaults; options given explicitly still win.
        parser.set_defaults(
            functions=list(QUICK_BIOBJ_FUNCTIONS),
            dims=[2],
            instances=[1],
            problems=list(QUICK_PROBLEMS),
            trials=40,
        )
        args = parser.parse_args(argv)
    bad = [f for f in args.functions if not 1 <= f <= len(BIOBJ_PAIRS)]
    if bad:
        parser.error(f"--functions must be in 1..{len(BIOBJ_PAIRS)}, got {bad}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the missing runs of the grid, appending to the CSV, then write the report."""
    args = parse_args(argv)
    quiet()
    limit_threads()
    run_and_report(
        args,
        "mo",
        columns=COLUMNS,
        key_columns=KEY_COLUMNS,
        plan=plan,
        run_one=run_one,
        report=report,
        retry=lambda frame: frame["status"] == "unsupported",
    )


if __name__ == "__main__":
    main()
