"""Faults the sampler and the pruner must live through: a worker killed mid-trial, objectives
that raise or return NaN/inf, attrs corrupted in storage or left by another version, a search
space that changes mid-study, and corrupted intermediate values."""

from __future__ import annotations

import json
import math
from pathlib import Path
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any
import warnings

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
from optuna.storages import RDBStorage
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.study import StudyDirection
from optuna.trial import TrialState
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import FORMAT_VERSION
from optuna_rl._attrs import USER_PRUNER
from optuna_rl._attrs import USER_SAMPLER
from optuna_rl.core.agent import Agent


optuna.logging.set_verbosity(optuna.logging.ERROR)

N_STARTUP_TRIALS = 5
N_STEPS = 4


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    base = (x - 1.0) ** 2 + (y + 2.0) ** 2
    value = base
    for step in range(N_STEPS):
        value = base + 4.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def _acting(trial: optuna.trial.FrozenTrial) -> bool:
    """The agent chose this trial's move: a decision written on this very trial (a retry
    carries a copy of the failed trial's decision, which names the failed trial)."""
    decision = trial.system_attrs.get(DECISION_KEY)
    return (
        isinstance(decision, dict)
        and decision.get("v") == FORMAT_VERSION
        and decision.get("a", -1) >= 0
        and decision.get("t", trial.number) == trial.number
    )


def _fresh_agent(study_name: str, storage: Any) -> Agent:
    """The agent rebuilt by a new sampler from a new ``Study`` object on the storage."""
    return RLSampler().agent_for(optuna.load_study(study_name=study_name, storage=storage))


def _rl_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if DECISION_KEY in str(w.message)]


# ---------------------------------------------------------------------------------------------
# A worker killed with SIGKILL mid-trial
# ---------------------------------------------------------------------------------------------


def _heartbeat_storage(url: str) -> RDBStorage:
    """Optuna 5's name for ``RetryFailedTrialCallback`` (deprecated in 4.9, same behaviour)."""
    return RDBStorage(
        url,
        heartbeat_interval=1,
        grace_period=2,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
    )


def _victim(spec: dict[str, Any]) -> None:
    """A worker that samples a trial, reports twice, says so, and hangs until it is killed."""

    def hang(trial: optuna.Trial) -> float:
        trial.suggest_float("x", -5.0, 5.0)
        trial.suggest_float("y", -5.0, 5.0)
        trial.report(10.0, 0)
        trial.should_prune()
        trial.report(9.0, 1)
        trial.should_prune()
        Path(spec["marker"]).write_text(str(trial.number))
        time.sleep(600)
        return 0.0

    study = optuna.load_study(
        study_name=spec["study_name"],
        storage=_heartbeat_storage(spec["url"]),
        sampler=RLSampler(seed=5, n_startup_trials=N_STARTUP_TRIALS),
        pruner=RLPruner(n_startup_trials=3),
    )
    study.optimize(hang, n_trials=1)


def _start_and_kill_victim(url: str, study_name: str, tmp_path: Path) -> int:
    marker = tmp_path / "sampled"
    spec = {"url": url, "study_name": study_name, "marker": str(marker)}
    process = subprocess.Popen(
        [sys.executable, __file__, json.dumps(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the victim worker never reached its trial"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    return int(marker.read_text())


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_killed_worker_trial_is_failed_and_learning_resumes(
    tmpfs_path: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmpfs_path / 'study.db'}"
    name = "killed"
    sampler = RLSampler(seed=0, n_startup_trials=N_STARTUP_TRIALS)
    pruner = RLPruner(n_startup_trials=3)
    study = optuna.create_study(
        study_name=name, storage=_heartbeat_storage(url), sampler=sampler, pruner=pruner
    )
    study.optimize(objective, n_trials=12)

    zombie_number = _start_and_kill_victim(url, name, tmp_path)
    assert zombie_number == 12
    zombie = optuna.load_study(study_name=name, storage=url).trials[zombie_number]
    assert zombie.state == TrialState.RUNNING
    assert _acting(zombie), zombie.system_attrs
    assert zombie.intermediate_values == {0: 10.0, 1: 9.0}
    held = _fresh_agent(name, url)
    assert held.n_updates == sum(_acting(t) for t in study.trials[:zombie_number])

    # A second worker goes on at once, on a storage object without heartbeat checks, so the
    # zombie surely stays RUNNING: sampling and learning go on past it.
    going_on = optuna.load_study(study_name=name, storage=url, sampler=sampler, pruner=pruner)
    going_on.optimize(objective, n_trials=5)
    trials = going_on.trials
    assert trials[zombie_number].state == TrialState.RUNNING
    assert all(_acting(t) for t in trials[zombie_number + 1 :])
    live_while_zombie = sampler.agent_for(going_on)
    assert live_while_zombie.n_updates == sum(_acting(t) for t in trials) - 1
    for agent in (live_while_zombie, _fresh_agent(name, url)):
        np.testing.assert_array_equal(agent.visits.sum(), held.visits.sum() + 5)
    np.testing.assert_array_equal(live_while_zombie.q, _fresh_agent(name, url).q)

    # Past the grace period, the next trial of a worker with heartbeats fails the zombie, and
    # Optuna's retry callback enqueues a retry of its parameters.
    time.sleep(2.5)
    study.optimize(objective, n_trials=8)
    trials = optuna.load_study(study_name=name, storage=url).trials
    assert len(trials) == 12 + 1 + 5 + 8
    assert trials[zombie_number].state == TrialState.FAIL
    assert all(
        t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        for t in trials
        if t.number != zombie_number
    )
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == zombie_number]
    assert len(retries) == 1
    assert retries[0].params == trials[zombie_number].params
    # The retry is history: the decision copied onto it is not learned from a second time.
    assert retries[0].system_attrs[DECISION_KEY]["t"] == zombie_number
    assert not _acting(retries[0])
    # And it says so: its parameters were given before it started (the callback copied the
    # failed trial's user attrs, its `rl_sampler` naming the agent's move, onto it).
    assert retries[0].user_attrs[USER_SAMPLER] == "enqueued"

    # The failed zombie fills its gap: it is folded in where it belongs, in number order.
    rebuilt = _fresh_agent(name, url)
    assert rebuilt.n_updates == sum(_acting(t) for t in trials)
    assert rebuilt.n_updates > held.n_updates + 5
    assert np.all(np.isfinite(rebuilt.q))
    live = sampler.agent_for(study)
    np.testing.assert_array_equal(live.visits, rebuilt.visits)
    np.testing.assert_array_equal(live.q, rebuilt.q)
    # And the trials after the retry were chosen by the agent.
    assert all(_acting(t) for t in trials if t.number > retries[0].number)


# ---------------------------------------------------------------------------------------------
# Objectives that raise or return NaN / inf
# ---------------------------------------------------------------------------------------------


def _unruly_objective(trial: optuna.Trial) -> Any:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 8)
    value = x**2 + n
    kind = trial.number % 9
    for step in range(N_STEPS):
        reported = value + 1.0 / (step + 1)
        if kind == 1 and step == 2:
            reported = float("nan")
        elif kind == 2:
            reported = float("inf")
        elif kind == 3 and step == 1:
            reported = -float("inf")
        trial.report(reported, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    if kind == 4:
        raise ValueError("the objective failed")
    if kind == 5:
        return float("nan")
    if kind == 6:
        return float("inf")
    if kind == 7:
        return -float("inf") if trial.number > 40 else 1e300
    return value


@pytest.mark.parametrize(
    "direction", [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE], ids=["min", "max"]
)
def test_objective_raises_or_returns_nan_and_inf(direction: StudyDirection) -> None:
    sampler = RLSampler(seed=0, n_startup_trials=N_STARTUP_TRIALS)
    study = optuna.create_study(
        direction=direction, sampler=sampler, pruner=RLPruner(n_startup_trials=3)
    )
    study.optimize(_unruly_objective, n_trials=60, catch=(ValueError,))
    trials = study.trials
    assert len(trials) == 60
    states = {t.state for t in trials}
    assert TrialState.RUNNING not in states
    assert {TrialState.COMPLETE, TrialState.FAIL} <= states
    completed = [t.value for t in trials if t.state == TrialState.COMPLETE]
    assert any(v is not None and not math.isfinite(v) for v in completed)
    for trial in trials:
        assert -5.0 <= trial.params["x"] <= 5.0 and 1 <= trial.params["n"] <= 8
    # The agent acts on, and learns from, every trial after the start-up.
    assert sum(_acting(t) for t in trials[20:]) == 40
    agent = sampler.agent_for(study)
    assert agent.n_updates == sum(_acting(t) for t in trials)
    assert np.all(np.isfinite(agent.q))
    # A NaN report is pruned once the pruner is past its start-up, as MedianPruner does.
    late_nan = [t for t in trials[30:] if t.number % 9 == 1]
    assert late_nan and all(t.state == TrialState.PRUNED for t in late_nan)


# ---------------------------------------------------------------------------------------------
# Attrs corrupted by hand or left by another version
# ---------------------------------------------------------------------------------------------


CORRUPT = [
    "garbage",  # foreign: not ours, silently history
    {"v": 0, "s": 1, "a": 2, "e": 0, "k": 0.1, "n": 3},  # an older format: history
    {"v": 1, "s": 1, "a": 2, "e": 0, "k": 0.1, "n": 3},  # the previous state binning: history
    {"v": 3, "s": 1, "a": 2, "e": 0, "k": 0.1, "n": 3, "extra": [1, 2]},  # a newer one
    {"v": 2, "s": "x"},  # this format, malformed: history, with one warning
    {"v": 2, "s": 0, "a": 99, "e": 0, "k": 0.1, "n": 0},
    {"v": 2, "s": 3, "a": 2, "e": 0, "k": -1.0, "n": 0},
    {"v": 2, "s": 3, "a": 2, "e": 0, "k": 0.1, "n": [None]},
    [1, 2, 3],
    None,
]
CORRUPTED_NUMBERS = [12 + 2 * i for i in range(len(CORRUPT))]


def _edit_attrs(db: Path, rows: list[tuple[str, int]] | None) -> None:
    """Overwrite (``rows`` = [(json, trial number)]) or delete (``rows`` is None) the decision
    attrs of trials directly in the SQLite file, as a careless hand or another tool would."""
    connection = sqlite3.connect(db)
    try:
        ids = dict(connection.execute("SELECT number, trial_id FROM trials").fetchall())
        if rows is None:
            for number in CORRUPTED_NUMBERS:
                connection.execute(
                    "DELETE FROM trial_system_attributes WHERE key = ? AND trial_id = ?",
                    (DECISION_KEY, ids[number]),
                )
        else:
            for value_json, number in rows:
                connection.execute(
                    "UPDATE trial_system_attributes SET value_json = ? "
                    "WHERE key = ? AND trial_id = ?",
                    (value_json, DECISION_KEY, ids[number]),
                )
            # Readable user attrs are never read back: garbage there changes nothing.
            connection.execute(
                "UPDATE trial_user_attributes SET value_json = ? WHERE key LIKE 'rl_%'",
                (json.dumps({"not": "what we wrote"}),),
            )
        connection.commit()
    finally:
        connection.close()


def test_corrupted_and_foreign_decisions_in_storage(tmpfs_path: Path) -> None:
    db = tmpfs_path / "study.db"
    url = f"sqlite:///{db}"
    study = optuna.create_study(
        study_name="s",
        storage=url,
        sampler=RLSampler(seed=0, n_startup_trials=N_STARTUP_TRIALS),
        pruner=RLPruner(n_startup_trials=3),
    )
    study.optimize(objective, n_trials=12 + 2 * len(CORRUPT))
    assert all(_acting(study.trials[n]) for n in CORRUPTED_NUMBERS)
    clean = tmpfs_path / "clean.db"
    shutil.copy(db, clean)
    _edit_attrs(db, [(json.dumps(v), n) for v, n in zip(CORRUPT, CORRUPTED_NUMBERS, strict=True)])
    _edit_attrs(clean, None)
    # The same history without those decisions is what the agent must learn from.
    expected = _fresh_agent("s", f"sqlite:///{clean}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sampler = RLSampler(seed=1, n_startup_trials=N_STARTUP_TRIALS)
        loaded = optuna.load_study(
            study_name="s", storage=url, sampler=sampler, pruner=RLPruner(n_startup_trials=3)
        )
        agent = sampler.agent_for(loaded)
        loaded.optimize(objective, n_trials=10)
    # ONE warning, for the malformed ones of this format only; no crash.
    assert len(_rl_warnings(caught)) == 1, _rl_warnings(caught)
    np.testing.assert_array_equal(agent.visits, expected.visits)
    np.testing.assert_array_equal(agent.q, expected.q)
    trials = loaded.trials
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert all(_acting(t) for t in trials[-10:])
    # Learning went on past the corrupted trials.
    assert sampler.agent_for(loaded).n_updates == agent.n_updates + 10


# ---------------------------------------------------------------------------------------------
# A search space that changes mid-study
# ---------------------------------------------------------------------------------------------


def _phase_objective(phase: int) -> Any:
    def run(trial: optuna.Trial) -> float:
        if phase == 0:
            x = trial.suggest_float("x", -5.0, 5.0)
            y = trial.suggest_float("y", -5.0, 5.0)
            c = trial.suggest_categorical("c", ["a", "b"])
            value = x**2 + y**2 + (c == "b")
        elif phase == 1:  # y removed, z added
            x = trial.suggest_float("x", -5.0, 5.0)
            z = trial.suggest_int("z", 0, 10)
            c = trial.suggest_categorical("c", ["a", "b"])
            value = x**2 + (z - 3) ** 2 + (c == "b")
        elif phase == 2:  # x's range changed, y back with another range, w added
            x = trial.suggest_float("x", 0.0, 10.0)
            y = trial.suggest_float("y", -3.0, 3.0, step=0.5)
            c = trial.suggest_categorical("c", ["a", "b"])
            w = trial.suggest_categorical("w", [1, 2, 3])
            value = (x - 2.0) ** 2 + y**2 + (c == "b") + w
        else:  # c removed
            x = trial.suggest_float("x", 0.0, 10.0)
            y = trial.suggest_float("y", -3.0, 3.0, step=0.5)
            value = (x - 2.0) ** 2 + y**2
        for step in range(N_STEPS):
            trial.report(value + 1.0 / (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    return run


def test_search_space_changes_mid_study() -> None:
    # Optuna itself refuses other changes: a parameter's kind (storage), and, under any
    # relative sampler such as multivariate TPE, its log flag or categorical choices.
    sampler = RLSampler(seed=0, n_startup_trials=N_STARTUP_TRIALS)
    study = optuna.create_study(sampler=sampler, pruner=RLPruner(n_startup_trials=3))
    for phase in range(4):
        study.optimize(_phase_objective(phase), n_trials=15)
        for trial in study.trials[-15:]:
            assert trial.state in (TrialState.COMPLETE, TrialState.PRUNED)
            for name, value in trial.params.items():
                dist = trial.distributions[name]
                assert dist._contains(dist.to_internal_repr(value)), (trial.number, name)
    trials = study.trials
    # Through phases 1 and 2 some parameters keep one distribution in every trial ({x, c},
    # then {c}): the agent keeps acting on them.
    assert all(_acting(t) for t in trials[15:45])
    # Once the first trial without c has finished, no parameter has one distribution in every
    # trial: the relative space is empty, every parameter goes to the independent sampler, and
    # nothing is recorded.
    assert not any(_acting(t) for t in trials[46:])
    agent = sampler.agent_for(study)
    np.testing.assert_array_equal(agent.q, RLSampler().agent_for(study).q)
    assert agent.n_updates == sum(_acting(t) for t in trials)


# ---------------------------------------------------------------------------------------------
# RLPruner with corrupted intermediate values
# ---------------------------------------------------------------------------------------------


CORRUPT_VALUES = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324, 0.0]


def _corrupted_history(study: optuna.Study, rng: np.random.Generator) -> None:
    """Finished trials whose curves are full of NaN, infinities and extreme values."""
    for i in range(30):
        curve = {step: float(rng.normal(10.0 - step, 1.0)) for step in range(0, 10, 1 + i % 3)}
        for step in rng.choice(sorted(curve), size=3, replace=False):
            curve[int(step)] = float(rng.choice(CORRUPT_VALUES))
        state = TrialState.PRUNED if i % 4 == 3 else TrialState.COMPLETE
        final = curve[max(curve)] if i % 5 else float(rng.choice(CORRUPT_VALUES))
        if math.isnan(final) and state == TrialState.COMPLETE:
            final = float(rng.choice(CORRUPT_VALUES[1:]))  # Optuna refuses a NaN final value.
        study.add_trial(
            optuna.create_trial(
                state=state,
                value=final if state == TrialState.COMPLETE else None,
                params={"x": float(rng.uniform(-5, 5))},
                distributions={"x": FloatDistribution(-5, 5)},
                intermediate_values=curve,
            )
        )


@pytest.mark.parametrize(
    "direction", [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE], ids=["min", "max"]
)
def test_pruner_with_corrupted_intermediate_values(
    direction: StudyDirection, tmpfs_path: Path
) -> None:
    storage = f"sqlite:///{tmpfs_path / 'curves.db'}"
    study = optuna.create_study(
        direction=direction,
        storage=storage,
        sampler=RLSampler(seed=0),
        pruner=RLPruner(n_startup_trials=3),
    )
    rng = np.random.default_rng(0)
    _corrupted_history(study, rng)

    def run(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        value = x**2
        for step in range(10):
            value = x**2 + 10.0 - step
            if step in (3, 4) and trial.number % 3 == 0:
                value = float(rng.choice(CORRUPT_VALUES))
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    with warnings.catch_warnings():
        # Values near the float limits must not overflow in the pruner's arithmetic either.
        warnings.simplefilter("error", RuntimeWarning)
        study.optimize(run, n_trials=20)
    new = study.trials[30:]
    assert len(new) == 20
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in new)
    for trial in new:
        # Every check after the start-up was explained, and a NaN report was pruned at once.
        assert trial.user_attrs[USER_PRUNER].startswith("step ")
        nan_steps = [s for s, v in trial.intermediate_values.items() if math.isnan(v)]
        if nan_steps:
            assert trial.state == TrialState.PRUNED
            assert trial.last_step == min(nan_steps)
            assert "NaN" in trial.user_attrs[USER_PRUNER]


if __name__ == "__main__":
    _victim(json.loads(sys.argv[1]))
