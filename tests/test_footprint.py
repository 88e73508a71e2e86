"""What optuna-rl adds to the storage per trial stays small and does not grow with the study.

Optuna issue #5762 is a sampler whose per-trial state reached megabytes in the RDB. Here the
sampler writes one decision (a JSON object of six numbers, about 70 bytes) and five short
readable user attrs per trial, and the pruner one line of explanation per trial (overwritten at
each check). The bound asserted, 1 KB per trial for the sampler and the pruner together, is
about three times what they are meant to write, so it catches any per-trial state (a Q-table, a
list of trials, a curve) sneaking into the attrs, while staying three orders of magnitude below
the megabytes of #5762. Study-level attrs (the optuna-dashboard note of the learned policy) are
a table with at most one row per state, so they must not grow with the number of trials either.
``benchmarks/footprint.py`` measures the same against Optuna's samplers and on SQLite files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType

import optuna
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState

from optuna_rl import RLPruner
from optuna_rl import RLSampler


optuna.logging.set_verbosity(optuna.logging.ERROR)

N_STEPS = 10
MAX_BYTES_PER_TRIAL = 1024
MAX_STUDY_ATTR_BYTES = 16 * 1024
"""The policy note: a header and one row per visited state (at most 66 rows of ~80 bytes)."""


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 8)
    kind = trial.suggest_categorical("kind", ["adam", "sgd", "rmsprop"])
    base = x**2 + (lr * 100 - 1) ** 2 + layers / 8 + (kind == "sgd")
    value = base
    for step in range(N_STEPS):
        value = base + 10.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def _load_benchmark() -> ModuleType:
    benchmarks = Path(__file__).resolve().parent.parent / "benchmarks"
    if str(benchmarks) not in sys.path:
        sys.path.insert(0, str(benchmarks))  # As when the script runs: its helpers sit beside it.
    path = benchmarks / "footprint.py"
    spec = importlib.util.spec_from_file_location("footprint_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


footprint = _load_benchmark()
attr_bytes = footprint.attr_bytes


class CountingStorage(footprint.AttrWriteCounter, InMemoryStorage):  # type: ignore[misc]
    """An in-memory storage that counts every attr write and its bytes (the benchmark's
    counter, on the storage the tests use)."""


class Footprint:
    """What one study left in (and wrote to) its storage."""

    def __init__(self, study: optuna.Study, storage: CountingStorage) -> None:
        study_id = study._study_id
        self.n_trials = len(study.trials)
        self.trial_bytes = [
            sum(
                attr_bytes(k, v)
                for attrs in (t.system_attrs, t.user_attrs)
                for k, v in attrs.items()
            )
            for t in study.trials
        ]
        study_attrs = {**storage.get_study_system_attrs(study_id), **study.user_attrs}
        self.study_bytes = sum(attr_bytes(k, v) for k, v in study_attrs.items())
        self.n_writes = storage.n_writes
        self.written_bytes = storage.written_bytes
        self.n_reports = sum(len(t.intermediate_values) for t in study.trials)
        self.states = [t.state for t in study.trials]

    @property
    def stored_bytes(self) -> int:
        return sum(self.trial_bytes) + self.study_bytes


def run(
    sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner, n_trials: int
) -> Footprint:
    storage = CountingStorage()
    study = optuna.create_study(storage=storage, sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=n_trials)
    return Footprint(study, storage)


def test_sampler_footprint_per_trial_is_small_and_flat() -> None:
    n_trials = 120
    rl = run(RLSampler(seed=0), optuna.pruners.NopPruner(), n_trials)
    baseline = run(optuna.samplers.RandomSampler(seed=0), optuna.pruners.NopPruner(), n_trials)
    assert all(state == TrialState.COMPLETE for state in rl.states)
    per_trial = (rl.stored_bytes - baseline.stored_bytes) / n_trials
    # It writes something (the decision), and little.
    assert 50 < per_trial < MAX_BYTES_PER_TRIAL, per_trial
    # No trial carries more than the bound, late trials no more than early ones: nothing in the
    # attrs grows with the history (beyond the digits of a trial number).
    assert max(rl.trial_bytes) < MAX_BYTES_PER_TRIAL
    early = sum(rl.trial_bytes[20:40]) / 20
    late = sum(rl.trial_bytes[-20:]) / 20
    assert late < 1.25 * early, (early, late)
    # Study-level attrs (the policy note) are bounded by the number of states, not trials.
    assert rl.study_bytes < MAX_STUDY_ATTR_BYTES, rl.study_bytes
    # Writes: a handful per trial, each a storage round trip (an RDB transaction).
    writes_per_trial = (rl.n_writes - baseline.n_writes) / n_trials
    assert writes_per_trial < 10, writes_per_trial


def test_pruner_footprint_per_trial_is_small() -> None:
    n_trials = 60
    sampler = optuna.samplers.RandomSampler
    rl = run(sampler(seed=0), RLPruner(), n_trials)
    baseline = run(sampler(seed=0), optuna.pruners.NopPruner(), n_trials)
    assert TrialState.PRUNED in rl.states
    per_trial = (rl.stored_bytes - baseline.stored_bytes) / n_trials
    assert 0 < per_trial < MAX_BYTES_PER_TRIAL, per_trial
    assert max(rl.trial_bytes) < MAX_BYTES_PER_TRIAL
    # One explanation per pruning check, overwritten by the next: the writes are bounded by
    # the reports, the stored bytes by one line per trial.
    assert rl.n_writes - baseline.n_writes <= rl.n_reports
    assert rl.written_bytes / max(rl.n_reports, 1) < MAX_BYTES_PER_TRIAL


def test_sampler_and_pruner_together() -> None:
    n_trials = 60
    rl = run(RLSampler(seed=0), RLPruner(), n_trials)
    baseline = run(optuna.samplers.RandomSampler(seed=0), optuna.pruners.NopPruner(), n_trials)
    per_trial = (rl.stored_bytes - baseline.stored_bytes) / n_trials
    assert 0 < per_trial < MAX_BYTES_PER_TRIAL, per_trial
    assert max(rl.trial_bytes) < MAX_BYTES_PER_TRIAL
