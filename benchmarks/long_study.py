"""Does the cost per trial stay flat in a long study? Sampler time, pruner time and memory in
windows of trials.

Passes (each a fresh study of a cheap objective: four floats and a categorical):

1. **sampler, in-memory**: ``RLSampler(seed=0)``, ``--trials`` trials (10,000). The CPU time
   spent in the sampler's methods (``infer_relative_search_space``, ``sample_relative``,
   ``sample_independent``, ``before_trial``, ``after_trial``) and the CPU and wall time of whole
   trials, averaged per window of ``--window`` trials (1,000). CPU time, because the machine
   may be shared: wall time then measures the other processes too.
2. **memory, in-memory**: the same study again under ``tracemalloc``, and one of
   ``RandomSampler(seed=0)``: traced memory at the end of each window and its peak within the
   window (this pass is slower: tracemalloc hooks every allocation). Memory grows with any
   study (Optuna keeps every trial); what optuna-rl adds is the difference between the two.
3. **sampler, SQLite**: ``RLSampler`` on a SQLite file (on tmpfs where there is one), for
   ``--sqlite-trials`` trials (2,000) in windows of a tenth of that.
4. **pruner, in-memory**: ``RandomSampler`` and ``RLPruner()``, ten reports per trial, for
   ``--pruner-trials`` trials (2,000) in windows of a tenth: the CPU time spent in ``prune``.
5. **sampler, gaps** and **pruner, gaps**: passes 1 and 4 again, but as many workers make
   them: trial 5 is asked and never told (a killed worker, left running), and from then on
   trials run in pairs that finish out of order (the second is told before the first), so every
   pair leaves a gap that fills one trial later. Both agents skip unfinished trials and refold
   from a gap when it fills; this shows what that costs.

With ``--profile``, the first and the last window of passes 1 and 4 are profiled with cProfile
in an extra run, and the functions of optuna_rl whose time per trial grew most are listed.

Run (``--quick``: 1,000 trials, windows of 100, 200 on SQLite, 400 for the pruner; writes
``long_study_quick.*``)::

    python benchmarks/long_study.py --profile

Outputs in ``benchmarks/results/``: ``long_study.csv`` (one row per pass and window),
``long_study.md`` (tables, growth, profile, command, machine, date) and ``long_study.png``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import cProfile
import csv
import datetime
import os
from pathlib import Path
import pstats
import shlex
import sys
import tempfile
import time
import tracemalloc
from typing import Any
import warnings

from _cli import positive_int
from _machine import load
from _machine import machine
import optuna
from optuna.samplers import RandomSampler

from optuna_rl import RLPruner
from optuna_rl import RLSampler


RESULTS = Path(__file__).resolve().parent / "results"
N_STEPS = 10
SAMPLER_METHODS = (
    "infer_relative_search_space",
    "sample_relative",
    "sample_independent",
    "before_trial",
    "after_trial",
)


def objective(trial: optuna.Trial) -> float:
    x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return sum((v - 1.0) ** 2 for v in x) + (c == "b")


def objective_with_reports(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    value = x * x
    for step in range(N_STEPS):
        value = x * x + 10.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


class Stopwatch:
    """CPU seconds accumulated by wrapped methods: CPU time, not wall time, so that other
    processes on a shared machine do not inflate the figures."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, owner: Any, name: str) -> None:
        method = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - start

        setattr(owner, name, timed)


DEAD_TRIAL = 5
"""The trial a gap pass asks and never tells."""


def optimize_out_of_order(
    study: optuna.Study, run: Callable[[optuna.Trial], float], n_trials: int
) -> None:
    """``n_trials`` trials (even) in pairs, the second of each told before the first, as two
    workers finish them; before the first pair, one trial is asked and never told."""
    if len(study.trials) <= DEAD_TRIAL < len(study.trials) + n_trials:
        study.optimize(run, n_trials=DEAD_TRIAL - len(study.trials))
        study.ask()  # Never told: it stays RUNNING.
        n_trials -= DEAD_TRIAL - len(study.trials) + 1
    for _ in range(n_trials // 2):
        first, second = study.ask(), study.ask()
        for trial in (second, first):
            try:
                study.tell(trial, run(trial))
            except optuna.TrialPruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)


def run_windows(
    study: optuna.Study,
    run: Callable[[optuna.Trial], float],
    n_trials: int,
    window: int,
    label: str,
    on_window: Callable[[int], dict[str, Any]],
    out_of_order: bool = False,
) -> list[dict[str, Any]]:
    """Optimise in windows; ``on_window(n_done)`` gives each window's row, to which the window's
    wall and CPU milliseconds per trial are added."""
    from tqdm import tqdm

    rows = []
    with tqdm(total=n_trials, desc=label, unit="trial", leave=False) as bar:
        for done in range(window, n_trials + 1, window):
            wall, cpu = time.perf_counter(), time.process_time()
            if out_of_order:
                optimize_out_of_order(study, run, window)
                bar.update(window)
            else:
                study.optimize(run, n_trials=window, callbacks=[lambda s, t: bar.update()])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            row = on_window(done)
            row.update(trial_ms=1000 * wall / window, trial_cpu_ms=1000 * cpu / window)
            rows.append(row)
    return rows


def timing_pass(
    label: str,
    n_trials: int,
    window: int,
    storage: str | None = None,
    pruner_pass: bool = False,
    out_of_order: bool = False,
) -> list[dict[str, Any]]:
    watch = Stopwatch()
    if pruner_pass:
        pruner = RLPruner()
        watch.wrap(pruner, "prune")
        study = optuna.create_study(storage=storage, sampler=RandomSampler(seed=0), pruner=pruner)
        run = objective_with_reports
    else:
        sampler = RLSampler(seed=0)
        for name in SAMPLER_METHODS:
            watch.wrap(sampler, name)
        study = optuna.create_study(
            storage=storage, sampler=sampler, pruner=optuna.pruners.NopPruner()
        )
        run = objective
    last = [0.0]

    def on_window(done: int) -> dict[str, Any]:
        spent, last[0] = watch.seconds - last[0], watch.seconds
        return {
            "pass": label,
            "trials": done,
            "window": window,
            "component_ms_per_trial": 1000 * spent / window,
        }

    return run_windows(study, run, n_trials, window, label, on_window, out_of_order)


def memory_pass(
    label: str, sampler: optuna.samplers.BaseSampler, n_trials: int, window: int
) -> list[dict[str, Any]]:
    tracemalloc.start()
    try:
        study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.NopPruner())

        def on_window(done: int) -> dict[str, Any]:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            return {
                "pass": label,
                "trials": done,
                "window": window,
                "memory_mb": current / 2**20,
                "peak_mb": peak / 2**20,
            }

        return run_windows(study, objective, n_trials, window, label, on_window)
    finally:
        tracemalloc.stop()


def profile_windows(
    make_study: Callable[[], optuna.Study],
    run: Callable[[optuna.Trial], float],
    n_trials: int,
    window: int,
) -> list[tuple[str, float, float]]:
    """Per-trial cumulative seconds of optuna_rl functions in the second and the last window
    (the first holds the start-up trials); sorted by growth."""
    study = make_study()
    first = cProfile.Profile()
    study.optimize(run, n_trials=window)
    first.enable()
    study.optimize(run, n_trials=window)
    first.disable()
    study.optimize(run, n_trials=n_trials - 3 * window)
    last = cProfile.Profile()
    last.enable()
    study.optimize(run, n_trials=window)
    last.disable()

    def per_function(profile: cProfile.Profile) -> dict[str, float]:
        stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        out = {}
        for (filename, line, name), (_, _, _, cumulative, _) in stats.items():
            if "optuna_rl" in filename:
                short = filename.split("optuna_rl")[-1].lstrip("/")
                out[f"optuna_rl/{short}:{line}({name})"] = cumulative / window
        return out

    early, late = per_function(first), per_function(last)
    rows = [(name, early.get(name, 0.0), late[name]) for name in late]
    rows.sort(key=lambda row: row[2] - row[1], reverse=True)
    return rows


def growth(rows: list[dict[str, Any]], key: str) -> str:
    """Last window against the second (the first holds the start-up trials)."""
    if len(rows) < 3:
        return "–"
    return f"{rows[-1][key] / max(rows[1][key], 1e-12):.2f}x"


def timing_table(rows: list[dict[str, Any]], component: str) -> list[str]:
    lines = [
        f"| trials | {component} CPU ms/trial | trial CPU ms | trial wall ms |",
        "|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['trials']} | {r['component_ms_per_trial']:.2f} | {r['trial_cpu_ms']:.2f} "
            f"| {r['trial_ms']:.2f} |"
        )
    lines.append(
        f"| **last / second window** | {growth(rows, 'component_ms_per_trial')} | "
        f"{growth(rows, 'trial_cpu_ms')} | {growth(rows, 'trial_ms')} |"
    )
    return lines


def memory_table(rl: list[dict[str, Any]], base: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| trials | RLSampler MB | peak in window MB | RandomSampler MB | RL − Random MB "
        "| RL − Random KB/trial |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r, b in zip(rl, base, strict=True):
        extra = r["memory_mb"] - b["memory_mb"]
        lines.append(
            f"| {r['trials']} | {r['memory_mb']:.1f} | {r['peak_mb']:.1f} | {b['memory_mb']:.1f} "
            f"| {extra:.1f} | {1024 * extra / r['trials']:.2f} |"
        )
    return lines


def plot(passes: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, rows in passes.items():
        if rows and "component_ms_per_trial" in rows[0]:
            left.plot(
                [r["trials"] for r in rows],
                [r["component_ms_per_trial"] for r in rows],
                "o-",
                label=label,
            )
        elif rows:
            right.plot(
                [r["trials"] for r in rows], [r["memory_mb"] for r in rows], "o-", label=label
            )
    left.set_xlabel("trials in the study")
    left.set_ylabel("CPU ms per trial in the sampler / pruner")
    left.set_yscale("log")
    left.set_title("Time per trial, per window")
    left.legend(fontsize=8)
    right.set_xlabel("trials in the study")
    right.set_ylabel("traced memory, MB")
    right.set_title("Memory (tracemalloc), in-memory storage")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run with small windows")
    parser.add_argument("--trials", type=positive_int, default=10_000)
    parser.add_argument("--window", type=positive_int, default=1_000)
    parser.add_argument("--sqlite-trials", type=positive_int, default=2_000)
    parser.add_argument("--pruner-trials", type=positive_int, default=2_000)
    parser.add_argument("--profile", action="store_true", help="profile the growth")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.window, args.sqlite_trials, args.pruner_trials = 1_000, 100, 200, 400
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load()
    t0 = time.perf_counter()
    passes: dict[str, list[dict[str, Any]]] = {}
    seconds: dict[str, float] = {}

    def timed(label: str, make: Callable[[], list[dict[str, Any]]]) -> None:
        start = time.perf_counter()
        passes[label] = make()
        seconds[label] = time.perf_counter() - start
        print(f"{label}: {seconds[label]:.0f} s", flush=True)

    timed("sampler in-memory", lambda: timing_pass("sampler in-memory", args.trials, args.window))
    timed(
        "memory RLSampler",
        lambda: memory_pass("memory RLSampler", RLSampler(seed=0), args.trials, args.window),
    )
    timed(
        "memory RandomSampler",
        lambda: memory_pass(
            "memory RandomSampler", RandomSampler(seed=0), args.trials, args.window
        ),
    )
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        url = f"sqlite:///{Path(folder) / 'long.db'}"
        timed(
            "sampler SQLite",
            lambda: timing_pass(
                "sampler SQLite", args.sqlite_trials, max(1, args.sqlite_trials // 10), url
            ),
        )
    timed(
        "pruner in-memory",
        lambda: timing_pass(
            "pruner in-memory",
            args.pruner_trials,
            max(1, args.pruner_trials // 10),
            pruner_pass=True,
        ),
    )
    timed(
        "sampler gaps",
        lambda: timing_pass("sampler gaps", args.trials, args.window, out_of_order=True),
    )
    timed(
        "pruner gaps",
        lambda: timing_pass(
            "pruner gaps",
            args.pruner_trials,
            max(1, args.pruner_trials // 10),
            pruner_pass=True,
            out_of_order=True,
        ),
    )
    profiles: dict[str, list[tuple[str, float, float]]] = {}
    if args.profile:
        profiles["sampler in-memory"] = profile_windows(
            lambda: optuna.create_study(
                sampler=RLSampler(seed=0), pruner=optuna.pruners.NopPruner()
            ),
            objective,
            args.trials,
            args.window,
        )
        pruner_window = max(1, args.pruner_trials // 10)
        profiles["pruner in-memory"] = profile_windows(
            lambda: optuna.create_study(sampler=RandomSampler(seed=0), pruner=RLPruner()),
            objective_with_reports,
            args.pruner_trials,
            pruner_window,
        )
    stem = "long_study_quick" if args.quick else "long_study"
    write_report(passes, profiles, seconds, stem, started, load_before, time.perf_counter() - t0)
    print((RESULTS / f"{stem}.md").read_text())


def write_report(
    passes: dict[str, list[dict[str, Any]]],
    profiles: dict[str, list[tuple[str, float, float]]],
    seconds: dict[str, float],
    stem: str,
    started: str,
    load_before: str,
    total: float,
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    fields = [
        "pass",
        "trials",
        "window",
        "component_ms_per_trial",
        "trial_cpu_ms",
        "trial_ms",
        "memory_mb",
        "peak_mb",
    ]
    with open(RESULTS / f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for rows in passes.values():
            for row in rows:
                writer.writerow(
                    {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                )
    command = shlex.join(["python", os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    lines = [
        "# Long studies: time and memory per trial",
        "",
        "Each row is one window of trials; *ms/trial* is the mean over the window. See the",
        "docstring of `benchmarks/long_study.py` for what each pass measures.",
        "",
        f"- Command: `{command}`",
        f"- Date: {started}",
        f"- Machine: {machine()}",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load()} (a shared "
        "machine: absolute times are noisy, compare windows)",
        f"- Took {total:.0f} s: "
        + ", ".join(f"{label} {s:.0f} s" for label, s in seconds.items()),
    ]
    for label, component in (
        ("sampler in-memory", "sampler"),
        ("sampler SQLite", "sampler"),
        ("pruner in-memory", "pruner"),
        ("sampler gaps", "sampler"),
        ("pruner gaps", "pruner"),
    ):
        lines += ["", f"## {label}", "", *timing_table(passes[label], component)]
    lines += [
        "",
        "## memory, in-memory storage",
        "",
        *memory_table(passes["memory RLSampler"], passes["memory RandomSampler"]),
    ]
    for label, ranked in profiles.items():
        lines += [
            "",
            f"## profile: {label}, cumulative ms per trial, second window against the last",
            "",
            "| function | second window | last window |",
            "|---|---:|---:|",
        ]
        for name, early, late in ranked[:12]:
            lines.append(f"| `{name}` | {1000 * early:.3f} | {1000 * late:.3f} |")
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    plot(passes, RESULTS / f"{stem}.png")


if __name__ == "__main__":
    main()
