"""Many worker processes on one study, on PostgreSQL, on a Journal file and through Optuna's
gRPC storage proxy: no trial lost or duplicated, no error from the sampler or the pruner, a
decision on every trial past start-up, and every worker ends with the agent a fresh rebuild
gives.

Each worker is a fresh Python process running this file as a script (see ``_worker``), with its
own ``RLSampler`` and ``RLPruner``: nothing but the storage is shared.
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any
import warnings

from _grpc_proxy import GrpcProxy
from _learning import assert_learned_from_the_study
import numpy as np
import optuna
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import FORMAT_VERSION
from optuna_rl._attrs import USER_PRUNER
from optuna_rl.sampling.prior import load_prior


N_TRIALS_PER_WORKER = 25
N_STARTUP_TRIALS = 5
N_STEPS = 4
WORKER_TIMEOUT = 240.0
"""Seconds a worker may take; far above the few seconds they need, to fail rather than hang."""


def objective(trial: optuna.Trial) -> float:
    """Cheap, with a learning curve the pruner can act on."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    base = (x - 1.0) ** 2 + (np.log10(lr) + 2.0) ** 2 + (kind == "b")
    value = base
    for step in range(N_STEPS):
        value = base + 2.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return float(value)


def open_storage(kind: str, location: str) -> str | optuna.storages.BaseStorage:
    if kind == "postgres":
        return location
    if kind == "grpc":
        host, port = location.rsplit(":", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.GrpcStorageProxy(host=host, port=int(port))
    return optuna.storages.JournalStorage(JournalFileBackend(location))


def _n_finished(study: optuna.Study) -> int:
    return sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))


def _worker(spec: dict[str, Any]) -> None:
    """Run this worker's trials, wait until every worker's trials are finished, then write the
    Q-table this process's sampler (incrementally updated all along) holds."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = RLSampler(seed=spec["seed"], n_startup_trials=N_STARTUP_TRIALS)
    study = optuna.load_study(
        study_name=spec["study_name"],
        storage=open_storage(spec["kind"], spec["location"]),
        sampler=sampler,
        pruner=RLPruner(n_startup_trials=3),
    )
    study.optimize(objective, n_trials=N_TRIALS_PER_WORKER)
    deadline = time.monotonic() + WORKER_TIMEOUT
    while _n_finished(study) < spec["expected"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the other workers did not finish their trials")
        time.sleep(0.25)
    agent = sampler.agent_for(study)
    Path(spec["out"]).write_text(
        json.dumps({"q": agent.q.tolist(), "visits": agent.visits.tolist()})
    )


def run_workers(
    kind: str, location: str, study_name: str, n_workers: int, tmp: Path
) -> list[Path]:
    """Start ``n_workers`` worker processes at once, wait for all, and check they exited
    cleanly. Returns the files the workers wrote their final agents to."""
    expected = n_workers * N_TRIALS_PER_WORKER
    outs = [tmp / f"agent-{i}.json" for i in range(n_workers)]
    processes = []
    for i, out in enumerate(outs):
        spec = {
            "kind": kind,
            "location": location,
            "study_name": study_name,
            "seed": i,
            "expected": expected,
            "out": str(out),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, __file__, json.dumps(spec)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=WORKER_TIMEOUT)
            results.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for i, (code, _stdout, stderr) in enumerate(results):
        assert code == 0, f"worker {i} exited with {code}:\n{stderr}"
        assert "Traceback" not in stderr, f"worker {i}:\n{stderr}"
        assert "Error" not in stderr, f"worker {i}:\n{stderr}"
    return outs


def check_decisions(trials: list[optuna.trial.FrozenTrial], n_workers: int) -> None:
    """A decision on every trial sampled once some trial had finished, and an agent action on
    every trial sampled once ``N_STARTUP_TRIALS`` trials had completed.

    When trial ``k`` is created, at most ``n_workers - 1`` of the trials before it are still
    running (one per other worker), so the sampler saw at least ``finished(< k) - (n_workers -
    1)`` finished and ``completed(< k) - (n_workers - 1)`` completed trials.
    """
    n_acting = 0
    for trial in trials:
        earlier = trials[: trial.number]
        finished = sum(t.state.is_finished() for t in earlier) - (n_workers - 1)
        completed = sum(t.state == TrialState.COMPLETE for t in earlier) - (n_workers - 1)
        decision = trial.system_attrs.get(DECISION_KEY)
        if finished >= 1:
            assert decision is not None and decision["v"] == FORMAT_VERSION, (
                trial.number,
                decision,
            )
        if completed >= N_STARTUP_TRIALS:
            assert decision is not None, trial.number
            assert decision["a"] >= 0 and decision["s"] >= 0, (trial.number, decision)
        if decision is not None and decision["a"] >= 0:
            n_acting += 1
            assert not trial.user_attrs["rl_sampler"].startswith("startup")
    assert n_acting >= len(trials) // 2, n_acting


def check_study(
    storage: str | optuna.storages.BaseStorage, study_name: str, n_workers: int, outs: list[Path]
) -> None:
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    expected = n_workers * N_TRIALS_PER_WORKER
    # No lost or duplicated trial.
    assert len(trials) == expected
    assert sorted(t.number for t in trials) == list(range(expected))
    assert len({t._trial_id for t in trials}) == expected
    # All finished, and the pruner, past its start-up, explained its checks in every worker.
    states = [t.state for t in trials]
    assert all(state in (TrialState.COMPLETE, TrialState.PRUNED) for state in states), states
    assert states.count(TrialState.COMPLETE) >= N_STARTUP_TRIALS
    # Every pruned trial says why (how many checks happen after the pruner's start-up depends on
    # the workers' timing, so that is not counted).
    assert all(USER_PRUNER in t.user_attrs for t in trials if t.state == TrialState.PRUNED)
    check_decisions(sorted(trials, key=lambda t: t.number), n_workers)

    # The agent is a function of the trials: two fresh rebuilds agree, and so does each worker's
    # own sampler, which folded the trials incrementally while they finished in any order.
    rebuilt = RLSampler().agent_for(study)
    again = RLSampler().agent_for(optuna.load_study(study_name=study_name, storage=storage))
    np.testing.assert_array_equal(rebuilt.q, again.q)
    np.testing.assert_array_equal(rebuilt.visits, again.visits)
    n_acting = sum((t.system_attrs.get(DECISION_KEY) or {"a": -1})["a"] >= 0 for t in trials)
    assert rebuilt.n_updates == n_acting
    assert_learned_from_the_study(rebuilt, load_prior())
    for i, out in enumerate(outs):
        worker = json.loads(out.read_text())
        np.testing.assert_array_equal(np.array(worker["q"]), rebuilt.q, err_msg=f"worker {i}")
        np.testing.assert_array_equal(
            np.array(worker["visits"]), rebuilt.visits, err_msg=f"worker {i}"
        )


def test_agent_for_reads_the_storage_not_a_stale_snapshot(tmp_path: Path) -> None:
    """What each worker does at the end, in one process: ``agent_for`` after ``optimize``, and
    again after another process (here another ``Study`` object) finished more trials, must see
    every finished trial, whatever the number of the last trial."""
    path = str(tmp_path / "journal.log")
    sampler = RLSampler(seed=0, n_startup_trials=N_STARTUP_TRIALS)
    study = optuna.create_study(
        study_name="stale", storage=open_storage("journal", path), sampler=sampler
    )
    # The last trial is number 20: a multiple of 10, as some worker's last trial may be.
    study.optimize(objective, n_trials=21)
    other = optuna.load_study(
        study_name="stale",
        storage=open_storage("journal", path),
        sampler=RLSampler(seed=1, n_startup_trials=N_STARTUP_TRIALS),
    )
    for n_trials in (21, 24):
        fresh = RLSampler().agent_for(
            optuna.load_study(study_name="stale", storage=open_storage("journal", path))
        )
        n_acting = sum(
            (t.system_attrs.get(DECISION_KEY) or {"a": -1})["a"] >= 0 for t in other.trials
        )
        assert fresh.n_updates == n_acting
        assert sampler.agent_for(study).n_updates == n_acting, n_trials
        np.testing.assert_array_equal(sampler.agent_for(study).q, fresh.q)
        other.optimize(objective, n_trials=3)


@pytest.mark.parametrize("n_workers", [4, 8])
def test_workers_on_postgres(n_workers: int, postgres_url: str, tmp_path: Path) -> None:
    study_name = f"workers-{n_workers}"
    optuna.create_study(study_name=study_name, storage=postgres_url)
    outs = run_workers("postgres", postgres_url, study_name, n_workers, tmp_path)
    check_study(postgres_url, study_name, n_workers, outs)


@pytest.mark.parametrize("n_workers", [4, 8])
def test_workers_on_journal_file(n_workers: int, tmpfs_path: Path, tmp_path: Path) -> None:
    # The file lock serialises the workers' writes: on tmpfs, no fsync on a busy disk slows them.
    path = str(tmpfs_path / "journal.log")
    study_name = f"workers-{n_workers}"
    optuna.create_study(study_name=study_name, storage=open_storage("journal", path))
    outs = run_workers("journal", path, study_name, n_workers, tmp_path)
    check_study(open_storage("journal", path), study_name, n_workers, outs)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_workers_through_the_grpc_proxy(
    backend: str, request: pytest.FixtureRequest, tmpfs_path: Path, tmp_path: Path
) -> None:
    # Optuna's gRPC proxy in front of the RDB: the workers talk to the proxy only, through
    # GrpcStorageProxy, whose client-side cache holds the trials it has read.
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmpfs_path / 'proxied.db'}"
    proxy = GrpcProxy(url)
    try:
        n_workers = 4
        study_name = f"grpc-{backend}"
        optuna.create_study(study_name=study_name, storage=proxy.storage())
        outs = run_workers("grpc", proxy.location, study_name, n_workers, tmp_path)
        check_study(proxy.storage(), study_name, n_workers, outs)
    finally:
        proxy.stop()
    # What went through the proxy is in the RDB, and reads the same without it.
    direct = optuna.load_study(study_name=study_name, storage=url)
    assert len(direct.trials) == n_workers * N_TRIALS_PER_WORKER
    np.testing.assert_array_equal(
        RLSampler().agent_for(direct).q, json_q(outs[0]), err_msg="direct read"
    )


def json_q(out: Path) -> np.ndarray:
    return np.array(json.loads(out.read_text())["q"])


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
