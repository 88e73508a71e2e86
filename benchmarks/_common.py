"""Shared parts of the sampler benchmarks: samplers, resumable CSV, parallel runs, metrics.

Used by ``bbob.py``, ``hpo.py``, ``overhead.py``, ``mo.py`` and ``constrained.py``. Everything
here is plain Python, numpy and pandas; the metric functions take tidy data frames so that the
tests can feed them tiny synthetic tables.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
import csv
import dataclasses
import datetime
import multiprocessing
import os
from pathlib import Path
import platform
import shlex
import subprocess
import sys
from typing import Any
import warnings

from _cli import positive_int
from _cli import seed_int
import numpy as np
import optuna
from optuna.samplers import BaseSampler
import pandas as pd


RESULTS_DIR = Path(__file__).resolve().parent / "results"

SAMPLER_NAMES: tuple[str, ...] = (
    "RLSampler",
    "TPESampler",
    "CmaEsSampler",
    "GPSampler",
    "RandomSampler",
    "QMCSampler",
)
"""Every sampler the benchmarks compare, in the order tables list them."""

OTHER_SAMPLER_NAMES: tuple[str, ...] = ("NSGAIISampler",)
"""Samplers :func:`make_sampler` also knows, run by the scripts that ask for them (``mo.py``,
``constrained.py``); listed after :data:`SAMPLER_NAMES` in tables."""

ABLATION_NAMES: tuple[str, ...] = (
    "RL-uniform-moves",
    "RL-greedy",
    "RL-no-prior",
    "RL-no-surrogate",
    "RL-surrogate-only",
    "RL-random-startup",
    "RL-frozen",
    "RL-frozen-q",
    "RL-state-blind",
    "RL-one-state",
)
"""RLSampler variants with one part removed (``_ablations.py``), accepted wherever a sampler
name is; listed after Optuna's samplers in tables."""

ALL_SAMPLER_NAMES: tuple[str, ...] = SAMPLER_NAMES + OTHER_SAMPLER_NAMES + ABLATION_NAMES
"""Every name :func:`make_sampler` accepts, in the order tables list them."""

BASELINE = "RLSampler"
"""The sampler the win-rate summaries are written for."""


def make_sampler(name: str, seed: int) -> BaseSampler:
    """A freshly constructed, seeded sampler by class name.

    Optuna's samplers keep their defaults (``TPESampler()`` is Optuna 5's default, multivariate
    sampler); only ``QMCSampler`` gets ``scramble=True``, without which its seed would not
    change the sequence and every seed would repeat the same run.

    Args:
        name: One of :data:`SAMPLER_NAMES`, :data:`OTHER_SAMPLER_NAMES` or
            :data:`ABLATION_NAMES`.
        seed: The sampler's seed.

    Returns:
        The sampler.

    Raises:
        ValueError: If ``name`` is not a known sampler.
    """
    from optuna_rl import RLSampler

    factories: dict[str, Callable[[], BaseSampler]] = {
        "RLSampler": lambda: RLSampler(seed=seed),
        "TPESampler": lambda: optuna.samplers.TPESampler(seed=seed),
        "CmaEsSampler": lambda: optuna.samplers.CmaEsSampler(seed=seed),
        "GPSampler": lambda: optuna.samplers.GPSampler(seed=seed),
        "RandomSampler": lambda: optuna.samplers.RandomSampler(seed=seed),
        "QMCSampler": lambda: optuna.samplers.QMCSampler(seed=seed, scramble=True),
        "NSGAIISampler": lambda: optuna.samplers.NSGAIISampler(seed=seed),
    }
    if name in ABLATION_NAMES:
        from _ablations import ABLATIONS

        factories[name] = lambda: ABLATIONS[name](seed)
    if name not in factories:
        raise ValueError(f"Unknown sampler {name!r}; choose from {', '.join(ALL_SAMPLER_NAMES)}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return factories[name]()


def quiet() -> None:
    """Silence Optuna's per-trial logging and its warnings (independent-sampling fallbacks)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    warnings.simplefilter("ignore", UserWarning)


def limit_threads() -> None:
    """One BLAS/OpenMP/torch thread per process, so that ``--jobs`` processes share the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def _worker_init() -> None:
    quiet()
    limit_threads()


def run_parallel(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    jobs: int,
    on_result: Callable[[Any], None],
    description: str,
    fresh_process: bool = False,
) -> None:
    """Run ``function`` on every task with a progress bar, in ``jobs`` processes.

    Results are handed to ``on_result`` in the parent as they arrive, so one process writes the
    CSV. With ``jobs == 1`` the tasks run in this process (what the tests use).

    Args:
        function: A module-level function of one task (picklable).
        tasks: The tasks still to run.
        jobs: Number of worker processes.
        on_result: Called with each result, in completion order.
        description: The progress bar's label.
        fresh_process: Give each task a new process (for memory measurements).
    """
    from tqdm import tqdm

    if not tasks:
        return
    if jobs <= 1:
        with tqdm(total=len(tasks), desc=description, unit="run") as bar:
            for task in tasks:
                on_result(function(task))
                bar.update()
        return
    # spawn: children start clean (no copied torch/tqdm threads) on every platform.
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        processes=jobs, initializer=_worker_init, maxtasksperchild=1 if fresh_process else None
    ) as pool:
        with tqdm(total=len(tasks), desc=description, unit="run") as bar:
            for result in pool.imap_unordered(function, tasks):
                on_result(result)
                bar.update()


class ResultStore:
    """A CSV of one row per finished run, appended to as runs finish, so a run can resume.

    Args:
        path: The CSV file.
        columns: Column names, in order.
        key_columns: The columns that identify a run.
        retry: Marks the rows (a boolean mask of the frame :meth:`read` returns) whose runs do
            not count as done and run again: e.g. runs a sampler refused, in case it has
            learnt since. By default every row counts.
    """

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        key_columns: Sequence[str],
        *,
        retry: Callable[[pd.DataFrame], pd.Series] | None = None,
    ) -> None:
        self.path = path
        self.columns = list(columns)
        self.key_columns = list(key_columns)
        self.retry = retry

    def read(self) -> pd.DataFrame:
        """All complete rows, one per key (the last one written wins)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return pd.DataFrame(columns=self.columns)
        frame = pd.read_csv(self.path, on_bad_lines="skip")
        frame = frame.dropna(subset=self.key_columns)
        return frame.drop_duplicates(subset=self.key_columns, keep="last").reset_index(drop=True)

    def done_keys(self) -> set[tuple[str, ...]]:
        """Keys of the runs already in the CSV (but those ``retry`` marks), as strings."""
        frame = self.read()
        if self.retry is not None and not frame.empty:
            frame = frame[~self.retry(frame).astype(bool)]
        return {
            tuple(str(value) for value in row)
            for row in frame[self.key_columns].itertuples(index=False)
        }

    def key_of(self, row: dict[str, Any]) -> tuple[str, ...]:
        """The key of a row, in the form :meth:`done_keys` returns."""
        return tuple(str(row[column]) for column in self.key_columns)

    @property
    def history_path(self) -> Path:
        """The log of the commands that added runs: ``<csv stem>_commands.txt``."""
        return self.path.with_name(f"{self.path.stem}_commands.txt")

    def log_command(self, n_runs: int, source: str | None = None) -> None:
        """Record that this process's command added ``n_runs`` runs (nothing if none), made by
        the code ``source`` (:func:`source_version` when the runs started)."""
        if n_runs <= 0:
            return
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        source = source or source_version()
        with self.history_path.open("a") as handle:
            handle.write(f"{now}, {n_runs} runs, {source}, `{command_line()}`\n")

    def history(self) -> list[str]:
        """The lines written by :meth:`log_command`, oldest first."""
        if not self.history_path.exists():
            return []
        return [line for line in self.history_path.read_text().splitlines() if line.strip()]

    def run_missing(
        self,
        function: Callable[[Any], dict[str, Any]],
        runs: Sequence[Any],
        *,
        jobs: int,
        description: str,
        unit: str = "runs",
        fresh_process: bool = False,
    ) -> None:
        """Run the ``runs`` (dataclasses) whose key is not in the CSV yet, in order, appending
        each row as it finishes, and log the command that added them."""
        # Taken before the runs: their code is already imported, and edits of the work tree
        # made while they run do not change it.
        source = source_version()
        done = self.done_keys()
        todo = [run for run in runs if self.key_of(dataclasses.asdict(run)) not in done]
        print(f"{len(todo)} {unit} to do ({len(done)} already in {self.path})", flush=True)
        run_parallel(
            function,
            todo,
            jobs=jobs,
            on_result=self.append,
            description=description,
            fresh_process=fresh_process,
        )
        self.log_command(len(todo), source)

    def append(self, row: dict[str, Any]) -> None:
        """Append one row and flush it to disk (a crash loses at most the run in progress)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns)
            if new_file:
                writer.writeheader()
            writer.writerow({column: row[column] for column in self.columns})
            handle.flush()
            os.fsync(handle.fileno())


@dataclasses.dataclass(frozen=True)
class SuiteRun:
    """One study: a sampler with a seed on one problem of a suite (``mo.py``, ``constrained.py``).

    ``problem`` names the problem within ``suite`` (``f01`` for a COCO function); ``instance``
    is 1 for the problems without instances (the formula and engineering problems).
    """

    sampler: str
    suite: str
    problem: str
    dim: int
    instance: int
    seed: int
    n_trials: int


def encode_trace(values: Iterable[float]) -> str:
    """A per-trial series as one CSV cell."""
    return " ".join(f"{value:.6e}" for value in values)


def decode_trace(cell: str) -> np.ndarray:
    """The inverse of :func:`encode_trace`."""
    return np.array([float(token) for token in str(cell).split()], dtype=float)


def best_so_far(values: Sequence[float], *, minimize: bool = True) -> np.ndarray:
    """The best value seen up to each trial; failed trials (NaN) keep the previous best.

    Before the first finite value the entry is ``inf`` (``-inf`` when maximising).
    """
    array = np.asarray(values, dtype=float)
    signed = np.where(np.isfinite(array), array if minimize else -array, np.inf)
    best = np.minimum.accumulate(signed) if len(signed) else signed
    return best if minimize else -best


def mean_ranks(
    frame: pd.DataFrame, *, problem: Sequence[str], sampler: str = "sampler", value: str = "value"
) -> pd.Series:
    """Mean rank of each sampler over problems (1 is best; lower ``value`` is better).

    ``frame`` holds one value per (problem, sampler): e.g. the mean over seeds of the log10
    regret at a budget. Samplers are ranked within each problem (ties share the average rank)
    and the ranks are averaged over the problems. Problems that lack a sampler present in
    ``frame`` are left out, so every rank compares the same set of samplers.

    Args:
        frame: Tidy data, one row per (problem, sampler).
        problem: The columns that identify a problem.
        sampler: The sampler column.
        value: The value column.

    Returns:
        Mean rank per sampler, best first.
    """
    table = frame.pivot_table(index=list(problem), columns=sampler, values=value, aggfunc="mean")
    table = table.dropna(axis=0, how="any")
    ranks = table.rank(axis=1, method="average")
    return ranks.mean(axis=0).sort_values()


def win_rates(
    frame: pd.DataFrame, *, problem: Sequence[str], sampler: str = "sampler", value: str = "value"
) -> pd.DataFrame:
    """Pairwise win rates: entry (A, B) is the fraction of problems where A's value < B's.

    A tie counts as half a win for each, so that (A, B) + (B, A) = 1. Only problems where both
    samplers have a value count. The diagonal is NaN.

    Args:
        frame: Tidy data, one row per (problem, sampler).
        problem: The columns that identify a problem.
        sampler: The sampler column.
        value: The value column.

    Returns:
        A square frame indexed and labelled by sampler.
    """
    table = frame.pivot_table(index=list(problem), columns=sampler, values=value, aggfunc="mean")
    names = list(table.columns)
    result = pd.DataFrame(np.nan, index=names, columns=names, dtype=float)
    for a in names:
        for b in names:
            if a == b:
                continue
            both = table[[a, b]].dropna()
            if both.empty:
                continue
            wins = (both[a] < both[b]).astype(float) + 0.5 * (both[a] == both[b]).astype(float)
            result.loc[a, b] = float(wins.mean())
    return result


def ecdf_of_targets(regret_traces: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Fraction of (run, target) pairs reached after each trial, as COCO's runtime ECDFs.

    A target ``t`` is reached by trial ``n`` when the best regret ``f - f_opt`` among the first
    ``n`` trials is ``<= t``.

    Args:
        regret_traces: Best-so-far regret, shape (runs, trials).
        targets: Regret targets, e.g. ``10 ** np.linspace(2, -8, 51)``.

    Returns:
        Shape (trials,): the fraction of pairs reached by each trial.
    """
    traces = np.asarray(regret_traces, dtype=float)
    if traces.ndim != 2 or traces.shape[0] == 0:
        raise ValueError(f"regret_traces must be a non-empty 2-D array, got shape {traces.shape}.")
    reached = traces[:, :, None] <= np.asarray(targets, dtype=float)[None, None, :]
    return reached.mean(axis=(0, 2))


def log10_regret(regret: np.ndarray | float, floor: float = 1e-8) -> np.ndarray:
    """``log10(max(regret, floor))``: below COCO's final target 1e-8 all results are equal."""
    return np.log10(np.maximum(np.asarray(regret, dtype=float), floor))


def machine_info() -> dict[str, str]:
    """Machine and versions, for the report."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import optuna_rl

    info = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "optuna": optuna.__version__,
        "optuna-rl": optuna_rl.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def source_version() -> str:
    """The git commit of the code that runs, with ``+changes`` if the package or the benchmark
    scripts differ from it in the work tree (results files do not count)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "optuna_rl",
                "benchmarks",
                ":!benchmarks/results",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "commit unknown"
    if not commit:
        return "commit unknown"
    return f"commit {commit}{'+changes' if changed else ''}"


def command_line() -> str:
    """The command that started this process, as a user would type it."""
    argv = list(sys.argv)
    try:
        argv[0] = os.path.relpath(argv[0])
    except ValueError:
        pass
    return shlex.join(["python", *argv])


def report_header(title: str, description: str, n_rows: int, history: Sequence[str]) -> str:
    """The top of a Markdown report: what, the exact commands, machine and date.

    Args:
        title: The report's title.
        description: A paragraph on what was measured.
        n_rows: Runs in the CSV.
        history: The lines of :meth:`ResultStore.history`: the commands that ran those runs.
    """
    info = machine_info()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = ", ".join(f"{key} {value}" for key, value in info.items())
    ran = "".join(f"  - {line}\n" for line in history) or "  - (not recorded)\n"
    return (
        f"# {title}\n\n{description}\n\n"
        f"- Runs in the CSV: {n_rows}, made by (date UTC, runs, source, command):\n{ran}"
        f"- Report written {now} by `{command_line()}`\n"
        f"- Machine: {machine}\n"
    )


def to_markdown(frame: pd.DataFrame, *, floatfmt: str = ".3f", index: bool = True) -> str:
    """A pipe table (pandas' ``to_markdown`` needs ``tabulate``, which we do not depend on)."""
    columns = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]

    def cell(value: Any) -> str:
        if isinstance(value, (float, np.floating)):
            return "–" if np.isnan(value) else format(value, floatfmt)
        return str(value)

    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join(["---"] * len(columns)) + "|",
    ]
    # itertuples keeps each column's type (iterrows would turn an int column into floats).
    for row in frame.itertuples(index=True, name=None):
        label, values = row[0], row[1:]
        cells = ([cell(label)] if index else []) + [cell(value) for value in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    default_seeds: Sequence[int],
    default_jobs: int = 2,
    default_samplers: Sequence[str] = SAMPLER_NAMES,
) -> None:
    """``--quick``, ``--jobs``, ``--samplers``, ``--seeds``, ``--report-only`` and ``--out``.

    ``--samplers`` accepts every name in :data:`ALL_SAMPLER_NAMES` and defaults to
    ``default_samplers``.
    """
    parser.add_argument("--quick", action="store_true", help="a small run (< 3 minutes)")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=default_jobs,
        help="worker processes (default %(default)s)",
    )
    parser.add_argument(
        "--samplers",
        nargs="+",
        default=list(default_samplers),
        choices=ALL_SAMPLER_NAMES,
        metavar="NAME",
        help=f"samplers to run (default: {' '.join(default_samplers)})",
    )
    parser.add_argument(
        "--seeds", nargs="+", type=seed_int, default=list(default_seeds), help="sampler seeds"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the Markdown and PNG from the CSV without running anything",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        help="directory for the CSV, Markdown and PNG (default benchmarks/results)",
    )


def run_and_report(
    args: argparse.Namespace,
    name: str,
    *,
    columns: Sequence[str],
    key_columns: Sequence[str],
    plan: Callable[[argparse.Namespace], Sequence[Any]],
    run_one: Callable[[Any], dict[str, Any]],
    report: Callable[[ResultStore, Path, str], str],
    retry: Callable[[pd.DataFrame], pd.Series] | None = None,
) -> None:
    """Run the missing runs of a benchmark's grid, appending to its CSV, then print its report.

    The ``main`` of ``bbob.py``, ``hpo.py``, ``mo.py`` and ``constrained.py``, but for the
    process settings (:func:`quiet`, :func:`limit_threads`): each script makes them itself, so
    that the tests can replace its ``limit_threads``. The files are ``<name>.*`` in
    ``args.out`` (``<name>_quick.*`` with ``--quick``); with ``--report-only`` nothing runs.

    Args:
        args: The parsed options of :func:`add_common_arguments` and the script's own.
        name: The files' stem, also the progress bar's label.
        columns: The CSV's columns, in order.
        key_columns: The columns that identify a run: the fields of the script's runs.
        plan: Every run the options ask for.
        run_one: Runs one of them (in a worker process) and returns its CSV row.
        report: Writes the report from the store into ``args.out`` under the given stem, and
            returns its Markdown.
        retry: As for :class:`ResultStore`: marks rows whose runs run again.
    """
    stem = f"{name}_quick" if args.quick else name
    store = ResultStore(args.out / f"{stem}.csv", columns, key_columns, retry=retry)
    if not args.report_only:
        store.run_missing(run_one, plan(args), jobs=args.jobs, description=name)
    print(report(store, args.out, stem))


def sampler_order(names: Iterable[str]) -> list[str]:
    """``names`` in the order of :data:`ALL_SAMPLER_NAMES`."""
    present = set(names)
    return [name for name in ALL_SAMPLER_NAMES if name in present]
