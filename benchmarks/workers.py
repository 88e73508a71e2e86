"""Throughput of one study shared by 1, 2, 4 and 8 worker processes on PostgreSQL, directly
or through Optuna's gRPC storage proxy.

Each configuration (sampler x storage x number of workers) gets a fresh study in a private
PostgreSQL cluster on 127.0.0.1 (started and deleted by this script, as the tests do: the Debian
server binaries must be installed, ``apt-get install postgresql``). With ``grpc``, the workers
talk to one ``optuna.storages.run_grpc_proxy_server`` process (in front of the same database,
through ``get_storage``'s cached RDB storage) with ``GrpcStorageProxy``, never to PostgreSQL.
The workers are fresh Python processes; each imports everything, loads the study and waits at
a barrier, so the import time (about a second each) is not counted. Then each runs
``n_trials / n_workers`` trials of a cheap objective (a 4-d sphere plus an int and a categorical
parameter; no intermediate values, no pruner), and the throughput is
``n_trials / (last end - first start)``.

``RLSampler`` is compared against Optuna's default ``TPESampler()``. The figures depend on the
machine's cores: with 2 cores, 8 workers share them, and what grows with the workers is the
overlap of their storage round trips, not compute.

Run (``--quick``: 48 trials per configuration instead of 240; writes ``workers_quick.*``)::

    python benchmarks/workers.py
    python benchmarks/workers.py --quick --samplers RLSampler --workers 1 2

Outputs in ``benchmarks/results/``: ``workers.csv`` (one row per configuration), ``workers.md``
(table, command, machine and date) and ``workers.png`` (trials per second against workers).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
from pathlib import Path
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any
import warnings

from _cli import positive_int
from _machine import load
from _machine import machine
import optuna


RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _grpc_proxy import GrpcProxy  # noqa: E402
from _postgres import PostgresCluster  # noqa: E402


SAMPLERS = ("RLSampler", "TPESampler")
STORAGES = ("postgres", "grpc")
"""``postgres``: each worker connects to PostgreSQL; ``grpc``: through the gRPC proxy."""
WORKERS = (1, 2, 4, 8)
BARRIER_TIMEOUT = 300.0


def objective(trial: optuna.Trial) -> float:
    x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(4)]
    n = trial.suggest_int("n", 1, 10)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return sum(v * v for v in x) + n + (c == "b")


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "RLSampler":
        from optuna_rl import RLSampler

        return RLSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def open_storage(storage: str, location: str) -> str | optuna.storages.BaseStorage:
    """The PostgreSQL URL, or a client of the gRPC proxy at ``host:port``."""
    if storage == "postgres":
        return location
    host, port = location.rsplit(":", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.GrpcStorageProxy(host=host, port=int(port))


def worker(spec: dict[str, Any]) -> None:
    """One worker: load the study, wait for the go file, run its trials, report its times."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(
        study_name=spec["study_name"],
        storage=open_storage(spec["storage"], spec["url"]),
        sampler=make_sampler(spec["sampler"], spec["seed"]),
        pruner=optuna.pruners.NopPruner(),
    )
    Path(spec["ready"]).touch()
    go = Path(spec["go"])
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go signal")
        time.sleep(0.01)
    start, cpu = time.time(), time.process_time()
    study.optimize(objective, n_trials=spec["n_trials"])
    end = time.time()
    print(json.dumps({"start": start, "end": end, "cpu": time.process_time() - cpu}))


def run_configuration(
    cluster: PostgresCluster, sampler: str, storage: str, n_workers: int, n_trials: int, index: int
) -> dict[str, Any]:
    url = cluster.create_database(f"bench_{index}")
    proxy = GrpcProxy(url) if storage == "grpc" else None
    try:
        return run_workers(url, proxy, sampler, storage, n_workers, n_trials)
    finally:
        if proxy is not None:
            proxy.stop()


def run_workers(
    url: str, proxy: GrpcProxy | None, sampler: str, storage: str, n_workers: int, n_trials: int
) -> dict[str, Any]:
    location = url if proxy is None else proxy.location
    study_name = f"{sampler}-{storage}-{n_workers}"
    optuna.create_study(study_name=study_name, storage=open_storage(storage, location))
    with tempfile.TemporaryDirectory() as folder:
        go = Path(folder) / "go"
        processes = []
        for i in range(n_workers):
            spec = {
                "url": location,
                "storage": storage,
                "study_name": study_name,
                "sampler": sampler,
                "seed": i,
                "n_trials": n_trials // n_workers,
                "ready": str(Path(folder) / f"ready-{i}"),
                "go": str(go),
            }
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", json.dumps(spec)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        try:
            while len(list(Path(folder).glob("ready-*"))) < n_workers:
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError(f"a worker died: {processes[0].communicate()[1]}")
                time.sleep(0.05)
            go.touch()
            outputs = [p.communicate(timeout=3600) for p in processes]
        finally:
            for p in processes:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    reports = []
    for p, (stdout, stderr) in zip(processes, outputs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"worker failed with {p.returncode}:\n{stderr}")
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    study = optuna.load_study(study_name=study_name, storage=url)
    trials = study.get_trials(deepcopy=False)
    complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    return {
        "sampler": sampler,
        "storage": storage,
        "n_workers": n_workers,
        "n_trials": len(trials),
        "n_complete": complete,
        "wall_s": round(wall, 3),
        "trials_per_s": round(len(trials) / wall, 3),
        "worker_cpu_s": round(sum(r["cpu"] for r in reports), 3),
        "best_value": round(study.best_value, 6),
    }


def write_report(rows: list[dict[str, Any]], stem: str, started: str, load_before: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    command = shlex.join(["python", os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    lines = [
        "# Trials per second with several workers on PostgreSQL",
        "",
        "One study per row in a private PostgreSQL 127.0.0.1 cluster, reached directly",
        "(`postgres`) or through Optuna's gRPC storage proxy (`grpc`); each worker a fresh",
        "process, timed from a common start signal (imports excluded) to its last trial. Cheap",
        "objective (no intermediate values, no pruner), so the figures are the cost of sampling",
        "and of the storage round trips. Worker CPU is the sum over workers of their process",
        "time during the trials.",
        "",
        f"- Command: `{command}`",
        f"- Date: {started}",
        f"- Machine: {machine()}",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load()} (the machine "
        "is shared; a load above the core count slows every figure)",
        "",
        "| sampler | storage | workers | trials | trials/s | wall s | worker CPU s | "
        "CPU ms/trial |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['sampler']} | {row['storage']} | {row['n_workers']} | {row['n_trials']} | "
            f"{row['trials_per_s']:.2f} | {row['wall_s']:.1f} | {row['worker_cpu_s']:.1f} | "
            f"{1000 * row['worker_cpu_s'] / row['n_trials']:.0f} |"
        )
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    plot(rows, RESULTS / f"{stem}.png")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for sampler in SAMPLERS:
        for storage, style in zip(STORAGES, ("o-", "s--"), strict=True):
            mine = [r for r in rows if r["sampler"] == sampler and r["storage"] == storage]
            if mine:
                ax.plot(
                    [r["n_workers"] for r in mine],
                    [r["trials_per_s"] for r in mine],
                    style,
                    label=f"{sampler} ({storage})",
                )
    workers = sorted({r["n_workers"] for r in rows})
    ax.set_xscale("log", base=2)
    ax.set_xticks(workers, [str(w) for w in workers])
    ax.set_xlabel(f"worker processes ({os.cpu_count()} cores)")
    ax.set_ylabel("trials per second")
    ax.set_ylim(bottom=0)
    ax.set_title("One study on PostgreSQL")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="48 trials per configuration")
    parser.add_argument("--samplers", nargs="+", choices=SAMPLERS, default=list(SAMPLERS))
    parser.add_argument("--storages", nargs="+", choices=STORAGES, default=list(STORAGES))
    parser.add_argument("--workers", nargs="+", type=positive_int, default=list(WORKERS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    from tqdm import tqdm

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    n_trials = 48 if args.quick else 240
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load()
    cluster = PostgresCluster.start()
    rows = []
    try:
        configurations = [
            (s, st, w) for s in args.samplers for st in args.storages for w in args.workers
        ]
        with tqdm(configurations, desc="configurations", unit="cfg") as bar:
            for index, (sampler, storage, n_workers) in enumerate(bar):
                bar.set_postfix(sampler=sampler, storage=storage, workers=n_workers)
                rows.append(
                    run_configuration(cluster, sampler, storage, n_workers, n_trials, index)
                )
                bar.write(
                    f"{sampler:>10} {storage:>8} x {n_workers}: "
                    f"{rows[-1]['trials_per_s']:.2f} trials/s"
                )
    finally:
        cluster.stop()
    write_report(rows, "workers_quick" if args.quick else "workers", started, load_before)
    print((RESULTS / ("workers_quick.md" if args.quick else "workers.md")).read_text())


if __name__ == "__main__":
    main()
