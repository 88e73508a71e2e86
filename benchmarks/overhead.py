"""Sampler overhead: time inside the sampler per trial, and peak memory, as studies grow.

Each sampler minimises a 5-D sphere (``suggest_float`` in [-5, 5]) whose evaluation is
negligible. The sampler is wrapped in :class:`TimedSampler`, which times every call Optuna
makes into it (``infer_relative_search_space``, ``sample_relative``, ``sample_independent``,
``before_trial``, ``after_trial``) with ``time.perf_counter`` and books it to the trial, so storage
and objective time are left out. Two passes per sampler and seed, each in its own process when
``--jobs > 1``:

- **time**: sampler seconds per trial. "At N trials" is the mean over the window of trials
  ``0.9·N .. N`` (e.g. trials 900-999 for 1,000), so it is the cost of one trial of a study that
  already has about N trials.
- **memory**: the same study under ``tracemalloc``; "at N" is the peak traced memory since the
  study was created (study storage included, which is the same for every sampler), in MB.
  ``tracemalloc`` slows Python down, which is why the time pass runs without it.

A pass stops at ``--max-trials`` or once the sampler has used ``--time-budget`` seconds, so
GPSampler (seconds per trial after 100 trials) reports "n/a" beyond the trials it reached.

With ``--objectives 2`` (or 3), the study minimises that many spheres centred apart (a
multi-objective study: NSGAIISampler joins the field); the results go to
``overhead_<n>obj.*``.

Run::

    python benchmarks/overhead.py --quick   # up to 1,000 trials, 30 s budget per pass
    python benchmarks/overhead.py           # up to 5,000 trials, 300 s budget per pass
    python benchmarks/overhead.py --objectives 2 --samplers RLSampler TPESampler NSGAIISampler \
        --max-trials 1000

Outputs in ``benchmarks/results/``: ``overhead.csv`` (one row per sampler, seed and pass with the
per-trial series), ``overhead.md`` (tables with RLSampler/TPESampler ratios from the same
invocation, command, machine, date) and ``overhead.png``; ``--quick`` writes ``overhead_quick.*``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import asdict
from dataclasses import dataclass
import gc
from pathlib import Path
import time
import tracemalloc
from typing import TYPE_CHECKING
from typing import Any

from _cli import positive_int
from _common import BASELINE
from _common import ResultStore
from _common import add_common_arguments
from _common import decode_trace
from _common import encode_trace
from _common import limit_threads
from _common import make_sampler
from _common import quiet
from _common import report_header
from _common import sampler_order
from _common import to_markdown
import numpy as np
import optuna
from optuna.samplers import BaseSampler
import pandas as pd


if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Sequence

    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial
    from optuna.trial import TrialState


DEFAULT_SAMPLERS = ("RLSampler", "TPESampler", "GPSampler", "RandomSampler")
CHECKPOINTS = (100, 1000, 5000)
REFERENCE = "TPESampler"
"""The sampler RLSampler's costs are divided by."""
DIM = 5
WARM_UP_TRIALS = 12
"""Trials of the throw-away study run before a pass (past the samplers' start-up phases)."""
COLUMNS = (
    "sampler",
    "seed",
    "mode",
    "max_trials",
    "time_budget",
    "n_trials",
    "seconds",
    "trace",
)
KEY_COLUMNS = ("sampler", "seed", "mode", "max_trials", "time_budget")


class TimedSampler(BaseSampler):
    """Delegates to ``inner`` and books the time of every call to the trial it is for.

    Args:
        inner: The sampler being measured.
    """

    def __init__(self, inner: BaseSampler) -> None:
        self.inner = inner
        self.seconds: defaultdict[int, float] = defaultdict(float)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        start = time.perf_counter()
        result = self.inner.infer_relative_search_space(study, trial)
        self.seconds[trial.number] += time.perf_counter() - start
        return result

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        start = time.perf_counter()
        result = self.inner.sample_relative(study, trial, search_space)
        self.seconds[trial.number] += time.perf_counter() - start
        return result

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        start = time.perf_counter()
        result = self.inner.sample_independent(study, trial, param_name, param_distribution)
        self.seconds[trial.number] += time.perf_counter() - start
        return result

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        start = time.perf_counter()
        self.inner.before_trial(study, trial)
        self.seconds[trial.number] += time.perf_counter() - start

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        start = time.perf_counter()
        self.inner.after_trial(study, trial, state, values)
        self.seconds[trial.number] += time.perf_counter() - start

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()

    def per_trial(self, n_trials: int) -> np.ndarray:
        """Sampler seconds of trials ``0 .. n_trials - 1``."""
        return np.array([self.seconds.get(number, 0.0) for number in range(n_trials)])


@dataclass(frozen=True)
class Run:
    """One pass: a sampler with a seed, timed or traced."""

    sampler: str
    seed: int
    mode: str
    max_trials: int
    time_budget: float
    objectives: int = 1


def sphere(trial: optuna.Trial) -> float:
    """A 5-D sphere: an objective that costs next to nothing."""
    return float(sum(trial.suggest_float(f"x{i}", -5.0, 5.0) ** 2 for i in range(DIM)))


def spheres(n_objectives: int) -> Callable[[optuna.Trial], tuple[float, ...]]:
    """``n_objectives`` 5-D spheres centred at different corners: a cheap Pareto front."""

    def objective(trial: optuna.Trial) -> tuple[float, ...]:
        x = np.array([trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(DIM)])
        centres = np.eye(n_objectives, DIM) * 2.0
        return tuple(float(((x - c) ** 2).sum()) for c in centres)

    return objective


def _study(run: Run, sampler: BaseSampler) -> tuple[optuna.Study, Callable[..., Any]]:
    if run.objectives == 1:
        return optuna.create_study(sampler=sampler), sphere
    directions = ["minimize"] * run.objectives
    return optuna.create_study(directions=directions, sampler=sampler), spheres(run.objectives)


def _warm_up(run: Run) -> None:
    """A short throw-away study, so that lazy imports and caches are not booked to the pass."""
    study, objective = _study(run, make_sampler(run.sampler, run.seed))
    study.optimize(objective, n_trials=WARM_UP_TRIALS)


def run_one(run: Run) -> dict[str, Any]:
    """One pass; its row holds sampler seconds (time) or peak traced MB (memory) per trial."""
    quiet()
    _warm_up(run)
    gc.collect()
    tracing = run.mode == "memory"
    if tracing:
        tracemalloc.start()
    sampler = TimedSampler(make_sampler(run.sampler, run.seed))
    study, objective = _study(run, sampler)
    peaks: list[float] = []

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        if tracing:
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        if sum(sampler.seconds.values()) > run.time_budget:
            study.stop()

    start = time.perf_counter()
    study.optimize(objective, n_trials=run.max_trials, callbacks=[after_trial])
    seconds = time.perf_counter() - start
    if tracing:
        tracemalloc.stop()
    n_trials = len(study.trials)
    trace = peaks if tracing else sampler.per_trial(n_trials)
    return {
        **{key: value for key, value in asdict(run).items() if key in COLUMNS},
        "n_trials": n_trials,
        "seconds": round(seconds, 2),
        "trace": encode_trace(trace),
    }


def window_mean(series: np.ndarray, n: int) -> float:
    """Mean of trials ``0.9·n .. n`` (trial indices ``[0.9n, n)``); NaN if not reached."""
    if len(series) < n:
        return float("nan")
    return float(np.mean(series[int(0.9 * n) : n]))


def value_at(series: np.ndarray, n: int) -> float:
    """The series' value after trial ``n`` (peak memory so far); NaN if not reached."""
    return float(series[n - 1]) if len(series) >= n else float("nan")


def summary(frame: pd.DataFrame, checkpoints: Sequence[int]) -> pd.DataFrame:
    """Per sampler: ms per trial and peak MB at each checkpoint (means over seeds)."""
    rows = []
    for row in frame.itertuples(index=False):
        series = decode_trace(str(row.trace))
        for n in checkpoints:
            value = window_mean(series, n) * 1e3 if row.mode == "time" else value_at(series, n)
            rows.append({"sampler": row.sampler, "mode": row.mode, "n": n, "value": value})
    tidy = pd.DataFrame(rows)
    table = tidy.pivot_table(
        index="sampler", columns=["mode", "n"], values="value", aggfunc="mean", dropna=False
    )
    return table.loc[sampler_order(table.index)]


def reached(frame: pd.DataFrame) -> pd.Series:
    """The fewest trials any pass of each sampler reached."""
    return frame.groupby("sampler")["n_trials"].min()


def tables(frame: pd.DataFrame, checkpoints: Sequence[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report's two tables: costs per sampler, and RLSampler / TPESampler ratios."""
    table = summary(frame, checkpoints)
    costs = pd.DataFrame(index=table.index)
    for n in checkpoints:
        costs[f"ms/trial @{n:,}"] = table[("time", n)] if ("time", n) in table else np.nan
    for n in checkpoints:
        costs[f"peak MB @{n:,}"] = table[("memory", n)] if ("memory", n) in table else np.nan
    costs["trials reached"] = reached(frame).reindex(costs.index)
    costs.index.name = "sampler"
    ratios = pd.DataFrame(index=[f"{n:,}" for n in checkpoints])
    ratios.index.name = "trials"
    if BASELINE in costs.index and REFERENCE in costs.index:
        for label, prefix in (("time", "ms/trial"), ("memory", "peak MB")):
            rl = [costs.loc[BASELINE, f"{prefix} @{n:,}"] for n in checkpoints]
            ref = [costs.loc[REFERENCE, f"{prefix} @{n:,}"] for n in checkpoints]
            ratios[f"{BASELINE} {prefix}"] = rl
            ratios[f"{REFERENCE} {prefix}"] = ref
            ratios[f"{label} ratio RL/TPE"] = np.array(rl) / np.array(ref)
    return costs, ratios


def figure(frame: pd.DataFrame, path: Path) -> None:
    """Sampler ms per trial (smoothed) and peak MB against trials, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(11, 4))
    for sampler in sampler_order(frame["sampler"].unique()):
        for mode, ax in (("time", ax_time), ("memory", ax_memory)):
            rows = frame[(frame["sampler"] == sampler) & (frame["mode"] == mode)]
            if rows.empty:
                continue
            series = decode_trace(str(rows.iloc[0]["trace"]))
            width = max(1, len(series) // 100) if mode == "time" else 1
            if mode == "time":
                # Plotted at the window's last trial, so the x axis stays "trials so far".
                series = np.convolve(series, np.ones(width) / width, mode="valid") * 1e3
            ax.plot(
                np.arange(width, width + len(series)),
                series,
                label=sampler,
                linewidth=2.5 if sampler == BASELINE else 1.2,
            )
    ax_time.set_ylabel("sampler ms per trial (moving mean)")
    ax_memory.set_ylabel("peak traced MB since study creation")
    for ax in (ax_time, ax_memory):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("trials")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Sampler overhead on a 5-D sphere (first seed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(
    store: ResultStore, out: Path, stem: str, checkpoints: Sequence[int], objectives: int = 1
) -> str:
    """Write ``<stem>.md`` and ``<stem>.png`` from the CSV; return the Markdown."""
    frame = store.read()
    if frame.empty:
        raise SystemExit(f"No runs in {store.path}.")
    # Passes of one sampler, seed and mode from invocations with other limits: keep the longest.
    frame = frame.sort_values("n_trials").drop_duplicates(
        subset=["sampler", "seed", "mode"], keep="last"
    )
    costs, ratios = tables(frame, checkpoints)
    png = out / f"{stem}.png"
    figure(frame, png)
    budgets = ", ".join(f"{b:g}" for b in sorted(frame["time_budget"].unique()))
    seeds = sorted(int(seed) for seed in frame["seed"].unique())
    problem = f"a {DIM}-D sphere"
    if objectives > 1:
        problem = f"{objectives} {DIM}-D spheres centred apart (a {objectives}-objective study)"
    description = (
        "Time spent inside the sampler per trial (mean of the trials 0.9·N..N) and peak "
        "memory traced by `tracemalloc` since the study was created (study storage included), "
        f"on {problem}, means over seeds {seeds}. A pass stops "
        f"after {budgets} s of sampler time; '–' means the sampler did not reach N trials "
        "within it. See `benchmarks/README.md`."
    )
    text = report_header("Sampler overhead", description, len(frame), store.history())
    text += "\n## Cost per sampler\n\n" + to_markdown(costs, floatfmt=".3g")
    text += f"\n## {BASELINE} / {REFERENCE}, from the same run\n\n"
    text += to_markdown(ratios, floatfmt=".3g")
    text += f"\n![overhead]({png.name})\n"
    (out / f"{stem}.md").write_text(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` replaces the defaults by a small run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser, default_seeds=[0])
    parser.set_defaults(samplers=list(DEFAULT_SAMPLERS))
    parser.add_argument("--max-trials", type=positive_int, default=max(CHECKPOINTS))
    parser.add_argument(
        "--time-budget", type=float, default=300.0, help="sampler seconds per pass"
    )
    parser.add_argument(
        "--objectives", type=positive_int, default=1, help="objectives of the study (spheres)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        # The quick grid replaces the defaults; options given explicitly still win.
        parser.set_defaults(max_trials=1000, time_budget=30.0)
        args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the missing passes, appending to the CSV, then write the report."""
    args = parse_args(argv)
    quiet()
    limit_threads()
    stem = "overhead_quick" if args.quick else "overhead"
    if args.objectives > 1:
        stem += f"_{args.objectives}obj"
    checkpoints = [n for n in CHECKPOINTS if n <= args.max_trials]
    store = ResultStore(args.out / f"{stem}.csv", COLUMNS, KEY_COLUMNS)
    runs = [
        Run(sampler, seed, mode, args.max_trials, args.time_budget, args.objectives)
        for mode in ("time", "memory")
        for seed in args.seeds
        for sampler in args.samplers
    ]
    runs.sort(key=lambda run: run.sampler != "GPSampler")  # the longest passes first
    if not args.report_only:
        store.run_missing(
            run_one,
            runs,
            jobs=args.jobs,
            description="overhead",
            unit="passes",
            fresh_process=True,
        )
    print(report(store, args.out, stem, checkpoints, args.objectives))


if __name__ == "__main__":
    main()
