"""A Dask cluster runs one study on its workers, RLSampler and RLPruner included: a real
``distributed.LocalCluster`` of worker processes on 127.0.0.1, sharing one storage held by the
scheduler (``optuna_integration.DaskStorage``). The sampler and the pruner reach the workers
pickled with the study; everything they learn is rebuilt from the shared trials.
"""

from __future__ import annotations

from collections.abc import Iterator
import sys
import time
from typing import Any

from _learning import assert_learned_from_the_study
import cloudpickle
from distributed import Client
from distributed import LocalCluster
from distributed import wait
import numpy as np
import optuna
from optuna.trial import TrialState
from optuna_integration import DaskStorage
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import USER_PRUNER
from optuna_rl.core.agent import Agent
from optuna_rl.sampling.prior import load_prior


N_WORKERS = 2
N_TRIALS_PER_WORKER = 20
N_STARTUP_TRIALS = 5
N_STEPS = 4
TIMEOUT = 240.0
"""Seconds a worker may wait for the others; far above what they need, to fail, not hang."""

# DaskStorage is experimental in optuna-integration 5 and says so wherever it is unpickled.
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


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


def optimize_then_rebuild(study: optuna.Study, n_trials: int, expected: int) -> dict[str, Any]:
    """What each Dask task does: its trials, then, once every task's trials are finished, the
    agent its own (unpickled) sampler holds, folded incrementally all along."""
    study.optimize(objective, n_trials=n_trials)
    deadline = time.monotonic() + TIMEOUT
    while sum(t.state.is_finished() for t in study.get_trials(deepcopy=False)) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError("the other workers did not finish their trials")
        time.sleep(0.1)
    assert isinstance(study.sampler, RLSampler)
    return study.sampler.agent_for(study).to_dict()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # The workers cannot import this test module by name: ship its functions by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        with Client(cluster) as dask_client:
            yield dask_client
    finally:
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_dask_workers_share_one_study_and_one_agent(client: Client) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = DaskStorage(client=client)  # In memory, on the scheduler.
    study = optuna.create_study(
        storage=storage,
        sampler=RLSampler(n_startup_trials=N_STARTUP_TRIALS),
        pruner=RLPruner(n_startup_trials=3),
    )
    expected = N_WORKERS * N_TRIALS_PER_WORKER
    # One task per worker process (each waits for the others' trials at its end).
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == N_WORKERS
    futures = [
        client.submit(
            optimize_then_rebuild,
            study,
            N_TRIALS_PER_WORKER,
            expected,
            workers=[worker],
            allow_other_workers=False,
            pure=False,
        )
        for worker in workers
    ]
    wait(futures, timeout=TIMEOUT)
    worker_agents = [Agent.from_dict(future.result()) for future in futures]

    # Every trial finished: nothing lost, duplicated or left running.
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(expected))
    states = [t.state for t in trials]
    assert all(state in (TrialState.COMPLETE, TrialState.PRUNED) for state in states), states
    assert states.count(TrialState.PRUNED) > 0
    assert all(USER_PRUNER in t.user_attrs for t in trials if t.state == TrialState.PRUNED)

    # The agent learned from the study: the visited entries moved away from the table it
    # started from, one update per move the agent chose.
    rebuilt = RLSampler().agent_for(study)
    n_moves = sum((t.system_attrs.get(DECISION_KEY) or {"a": -1})["a"] >= 0 for t in trials)
    assert n_moves >= expected // 2
    assert rebuilt.n_updates == n_moves
    assert_learned_from_the_study(rebuilt, load_prior())
    # The agent each worker's sampler holds is the one a fresh rebuild gives.
    for i, agent in enumerate(worker_agents):
        np.testing.assert_array_equal(agent.q, rebuilt.q, err_msg=f"worker {i}")
        np.testing.assert_array_equal(agent.visits, rebuilt.visits, err_msg=f"worker {i}")
