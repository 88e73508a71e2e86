"""Bytes a sampler or a pruner adds to the storage per trial (optuna issue #5762 is a sampler
whose per-trial state reached megabytes).

Each sampler runs one study of a cheap objective (four floats and an int, ten intermediate
reports per trial, no pruning) on a SQLite file, and each pruner one study with
``RandomSampler`` (the same trials for every pruner). Per trial, the table gives:

- **attr bytes**: what the trials' and the study's system and user attrs hold at the end, as
  ``len(key) + len(json.dumps(value))`` summed, over the number of trials. Optuna's RDB keeps
  exactly these JSON strings. ``RandomSampler`` and ``NopPruner`` write none.
- **attr writes**: calls that set an attr (each one a storage round trip, an RDB transaction),
  overwrites included; **written bytes**: their ``len(key) + len(json.dumps(value))``.
- **SQLite bytes**: the file's size after ``VACUUM`` over the number of trials; and **over
  Random / over Nop**: the same minus the baseline's file, over the number of trials. For the
  pruners the file also shrinks with every report a pruned trial did not make.

Run (``--quick``: 40 trials instead of 300, writes ``footprint_quick.*``)::

    python benchmarks/footprint.py

Outputs in ``benchmarks/results/``: ``footprint.csv`` and ``footprint.md`` (tables, command,
machine, date).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import csv
import datetime
import json
import os
from pathlib import Path
import shlex
import sqlite3
import sys
import tempfile
from typing import Any
import warnings

from _machine import machine
import optuna
from optuna.storages import RDBStorage

from optuna_rl import RLPruner
from optuna_rl import RLSampler


RESULTS = Path(__file__).resolve().parent / "results"
N_STEPS = 10

SAMPLERS: dict[str, Callable[[], optuna.samplers.BaseSampler]] = {
    "RLSampler": lambda: RLSampler(seed=0),
    "TPESampler": lambda: optuna.samplers.TPESampler(seed=0),
    "CmaEsSampler": lambda: optuna.samplers.CmaEsSampler(seed=0),
    "RandomSampler": lambda: optuna.samplers.RandomSampler(seed=0),
}
PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "RLPruner": lambda: RLPruner(),
    "MedianPruner": lambda: optuna.pruners.MedianPruner(),
    "NopPruner": lambda: optuna.pruners.NopPruner(),
}


def objective(trial: optuna.Trial) -> float:
    x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
    n = trial.suggest_int("n", 1, 10)
    base = sum(v * v for v in x) + n
    value = base
    for step in range(N_STEPS):
        value = base + 10.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def attr_bytes(key: str, value: Any) -> int:
    return len(key) + len(json.dumps(value))


class AttrWriteCounter:
    """A storage mixin counting every attr write and its bytes (overwrites too)."""

    n_writes = 0
    written_bytes = 0

    def _count(self, key: str, value: Any) -> None:
        self.n_writes += 1
        self.written_bytes += attr_bytes(key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._count(key, value)
        super().set_trial_system_attr(trial_id, key, value)  # type: ignore[misc]

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._count(key, value)
        super().set_trial_user_attr(trial_id, key, value)  # type: ignore[misc]

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._count(key, value)
        super().set_study_system_attr(study_id, key, value)  # type: ignore[misc]

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._count(key, value)
        super().set_study_user_attr(study_id, key, value)  # type: ignore[misc]


class CountingStorage(AttrWriteCounter, RDBStorage):
    """Optuna's RDB storage on SQLite, counting every attr write."""


def measure(
    folder: Path,
    name: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    n_trials: int,
) -> dict[str, Any]:
    path = folder / f"{name}.db"
    storage = CountingStorage(f"sqlite:///{path}")
    study = optuna.create_study(storage=storage, sampler=sampler, pruner=pruner)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(objective, n_trials=n_trials)
    trials = study.get_trials(deepcopy=False)
    trial_bytes = [
        sum(attr_bytes(k, v) for attrs in (t.system_attrs, t.user_attrs) for k, v in attrs.items())
        for t in trials
    ]
    study_attrs = {**storage.get_study_system_attrs(study._study_id), **study.user_attrs}
    study_bytes = sum(attr_bytes(k, v) for k, v in study_attrs.items())
    storage.remove_session()
    storage.engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("VACUUM")
    connection.close()
    return {
        "name": name,
        "n_trials": n_trials,
        "n_pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
        "n_reports": sum(len(t.intermediate_values) for t in trials),
        "attr_bytes_per_trial": (sum(trial_bytes) + study_bytes) / n_trials,
        "max_trial_attr_bytes": max(trial_bytes),
        "study_attr_bytes": study_bytes,
        "attr_writes_per_trial": storage.n_writes / n_trials,
        "written_bytes_per_trial": storage.written_bytes / n_trials,
        "sqlite_bytes": path.stat().st_size,
    }


def table(rows: list[dict[str, Any]], baseline: str) -> list[str]:
    base = next(r for r in rows if r["name"] == baseline)
    lines = [
        f"| | attr bytes | max on one trial | study attrs | attr writes | written bytes | "
        f"SQLite bytes | over {baseline.replace('Sampler', '').replace('Pruner', '')} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        over = (r["sqlite_bytes"] - base["sqlite_bytes"]) / r["n_trials"]
        lines.append(
            f"| {r['name']} | {r['attr_bytes_per_trial']:.0f} | {r['max_trial_attr_bytes']} | "
            f"{r['study_attr_bytes']} | {r['attr_writes_per_trial']:.1f} | "
            f"{r['written_bytes_per_trial']:.0f} | {r['sqlite_bytes'] / r['n_trials']:.0f} | "
            f"{over:+.0f} |"
        )
    return lines


def write_report(
    samplers: list[dict[str, Any]], pruners: list[dict[str, Any]], stem: str, started: str
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{stem}.csv", "w", newline="") as f:
        fields = ["kind", *samplers[0]]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for kind, rows in (("sampler", samplers), ("pruner", pruners)):
            for row in rows:
                writer.writerow({"kind": kind, **row})
    command = shlex.join(["python", os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    n_trials = samplers[0]["n_trials"]
    lines = [
        "# Storage footprint per trial",
        "",
        f"{n_trials} trials per study, {N_STEPS} intermediate reports per trial, SQLite file.",
        "All figures are bytes or writes **per trial** except *max on one trial* (the largest",
        "attrs of a single trial) and *study attrs* (study-level attrs at the end, in bytes).",
        "See the docstring of `benchmarks/footprint.py` for the definitions.",
        "",
        f"- Command: `{command}`",
        f"- Date: {started}",
        f"- Machine: {machine()}",
        "",
        "## Samplers (NopPruner)",
        "",
        *table(samplers, "RandomSampler"),
        "",
        "## Pruners (RandomSampler)",
        "",
        *table(pruners, "NopPruner"),
        "",
        "Pruned trials report less, so a pruner's SQLite file can be smaller than Nop's.",
    ]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 trials instead of 300")
    args = parser.parse_args()
    from tqdm import tqdm

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    n_trials = 40 if args.quick else 300
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    jobs: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = [
        ("sampler", name, make, optuna.pruners.NopPruner) for name, make in SAMPLERS.items()
    ] + [
        ("pruner", name, lambda: optuna.samplers.RandomSampler(seed=0), make)
        for name, make in PRUNERS.items()
    ]
    results: dict[str, list[dict[str, Any]]] = {"sampler": [], "pruner": []}
    # On tmpfs where there is one: the figures are sizes, and fsyncs would only slow the run.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        for kind, name, sampler, pruner in tqdm(jobs, desc="studies", unit="study"):
            row = measure(Path(folder), name, sampler(), pruner(), n_trials)
            results[kind].append(row)
    stem = "footprint_quick" if args.quick else "footprint"
    write_report(results["sampler"], results["pruner"], stem, started)
    print((RESULTS / f"{stem}.md").read_text())


if __name__ == "__main__":
    main()
