"""RLSampler and RLPruner as a drop-in in ordinary studies: pickled and copied, reused across
studies, with n_jobs > 1, together, and with every trial saying who chose its parameters."""

from __future__ import annotations

import copy
import logging
import math
import pickle
import threading

import numpy as np
import optuna
from optuna.trial import Trial
from optuna.trial import TrialState
import pytest
from scipy.stats import qmc
from threadpoolctl import threadpool_info
from threadpoolctl import threadpool_limits

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import USER_SAMPLER
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import RESTART
from optuna_rl.sampling.surrogate import single_threaded_blas


optuna.logging.set_verbosity(optuna.logging.WARNING)


def bowl(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 1.0) ** 2 + (y + 2.0) ** 2


def learning_curve(trial: Trial) -> float:
    """A synthetic training run: 10 reports converging to the configuration's quality."""
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    final = (x - 1.0) ** 2 + (y + 2.0) ** 2
    value = final
    for step in range(10):
        value = final + 20.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def who(trial: optuna.trial.FrozenTrial) -> str | None:
    """Who chose the trial's parameters: the first word of its ``rl_sampler`` line."""
    summary = trial.user_attrs.get(USER_SAMPLER)
    return None if summary is None else summary.split()[0]


def n_agent_moves(study: optuna.Study) -> int:
    return sum((t.system_attrs.get(DECISION_KEY) or {"a": -1})["a"] >= 0 for t in study.trials)


# --- Pickling -------------------------------------------------------------------------------


def test_a_study_with_both_round_trips_through_pickle_and_goes_on() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0), pruner=RLPruner())
    study.optimize(learning_curve, n_trials=20)
    restored = pickle.loads(pickle.dumps(study))
    assert isinstance(restored.sampler, RLSampler) and isinstance(restored.pruner, RLPruner)
    # The caches stayed behind and are rebuilt from the (pickled, in-memory) storage.
    np.testing.assert_array_equal(
        restored.sampler.agent_for(restored).q, study.sampler.agent_for(study).q
    )
    restored.optimize(learning_curve, n_trials=15)
    assert len(restored.trials) == 35
    assert n_agent_moves(restored) > n_agent_moves(study)


@pytest.mark.parametrize("make", [lambda: RLSampler(seed=3), lambda: RLPruner()])
def test_deepcopy_and_pickle_of_a_used_object(make: object) -> None:
    used = make()  # type: ignore[operator]
    sampler = used if isinstance(used, RLSampler) else RLSampler(seed=3)
    pruner = used if isinstance(used, RLPruner) else None
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(learning_curve, n_trials=12)
    for clone in (copy.deepcopy(used), pickle.loads(pickle.dumps(used))):
        assert type(clone) is type(used)
        again = optuna.create_study(
            sampler=clone if isinstance(clone, RLSampler) else RLSampler(seed=3),
            pruner=clone if isinstance(clone, RLPruner) else None,
        )
        again.optimize(learning_curve, n_trials=12)
        assert all(t.state.is_finished() for t in again.trials)


def test_a_pickled_seeded_sampler_continues_as_the_original() -> None:
    # Same settings and seed, same storage: the copy proposes what the original would have.
    study = optuna.create_study(sampler=RLSampler(seed=5))
    study.optimize(bowl, n_trials=20)
    clone = copy.deepcopy(study)
    study.optimize(bowl, n_trials=10)
    clone.optimize(bowl, n_trials=10)
    assert [t.params for t in study.trials] == [t.params for t in clone.trials]


# --- One sampler, several studies -----------------------------------------------------------


def test_one_sampler_serves_two_in_memory_studies(caplog: pytest.LogCaptureFixture) -> None:
    sampler = RLSampler(seed=0)
    first = optuna.create_study(sampler=sampler)
    first.optimize(bowl, n_trials=30)
    second = optuna.create_study(sampler=sampler)
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            second.optimize(bowl, n_trials=30)
    finally:
        optuna.logging.disable_propagation()
    # The second study is learned on its own: 10 start-up trials (trial 0 independent), then
    # the agent, never the independent sampler's fallback.
    assert not [r for r in caplog.records if "independent" in r.getMessage()]
    actions = [who(t) for t in second.trials]
    assert actions[0] == "independent"
    assert actions[1:10] == ["startup"] * 9
    assert all(a in {action.name for action in ACTIONS} for a in actions[10:])
    # Its agent is what a new sampler rebuilds from its trials alone.
    for study in (first, second):
        np.testing.assert_array_equal(
            sampler.agent_for(study).q, RLSampler(seed=0).agent_for(study).q
        )
    assert second.best_value < 0.01


def test_one_sampler_serves_two_studies_in_one_sqlite_file(tmp_path: object) -> None:
    storage = f"sqlite:///{tmp_path}/two.db"
    sampler = RLSampler(seed=0)
    for name in ("a", "b", "a"):
        study = optuna.create_study(
            study_name=name, storage=storage, sampler=sampler, load_if_exists=True
        )
        study.optimize(bowl, n_trials=15)
    a = optuna.load_study(study_name="a", storage=storage)
    b = optuna.load_study(study_name="b", storage=storage)
    assert len(a.trials) == 30 and len(b.trials) == 15
    assert n_agent_moves(a) == 20 and n_agent_moves(b) == 5


# --- n_jobs > 1 -----------------------------------------------------------------------------


def _startup_discrepancy(n_jobs: int, seed: int) -> float:
    study = optuna.create_study(sampler=RLSampler(seed=seed, n_startup_trials=32))
    study.optimize(bowl, n_trials=33, n_jobs=n_jobs)
    points = [
        [(t.params["x"] + 5.0) / 10.0, (t.params["y"] + 5.0) / 10.0]
        for t in study.trials
        if who(t) == "startup"
    ]
    assert len(points) >= 24
    return float(qmc.discrepancy(np.array(points), method="CD"))


def test_the_startup_design_survives_reseeding_under_n_jobs() -> None:
    # Optuna reseeds the sampler before every trial when n_jobs > 1; the start-up points must
    # still be one design, as balanced as sequentially (uniform points are several times worse).
    rng = np.random.default_rng(0)
    uniform = np.mean([qmc.discrepancy(rng.random((32, 2)), method="CD") for _ in range(20)])
    for seed in (0, 1):
        sequential = _startup_discrepancy(1, seed)
        threaded = _startup_discrepancy(2, seed)
        assert threaded < 2.0 * sequential + 1e-3
        assert threaded < 0.5 * uniform


def test_unseeded_workers_of_one_study_share_its_design() -> None:
    storage = optuna.storages.InMemoryStorage()
    optuna.create_study(study_name="shared", storage=storage)
    points = []
    for _ in range(2):  # Two workers, each with its own unseeded sampler.
        sampler = RLSampler(n_startup_trials=16)
        study = optuna.load_study(study_name="shared", storage=storage, sampler=sampler)
        study.optimize(bowl, n_trials=8)
    for t in optuna.load_study(study_name="shared", storage=storage).trials:
        if who(t) == "startup":
            points.append([(t.params["x"] + 5.0) / 10.0, (t.params["y"] + 5.0) / 10.0])
    # Points 1..15 of one scrambled Sobol' sequence: no two in the same cell of a 4 x 4 grid
    # in more than two cells (of two independent designs, many would share cells).
    cells = [(int(4 * p[0]), int(4 * p[1])) for p in points]
    assert len(points) == 15
    assert len(set(cells)) >= 13


def test_the_proposal_runs_outside_the_sampler_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two threads sampling at once overlap in the proposal (the Gaussian process fit included):
    # while one is inside it, the other can take the lock, read the study and propose too.
    from optuna_rl.sampling import policy

    inside = threading.Barrier(2, timeout=20)
    original = policy.propose

    def propose_together(*args: object, **kwargs: object) -> object:
        inside.wait()  # Both threads must be here at the same time, or this times out.
        return original(*args, **kwargs)  # type: ignore[arg-type]

    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=5))
    study.optimize(bowl, n_trials=6)
    monkeypatch.setattr(policy, "propose", propose_together)
    study.optimize(bowl, n_trials=4, n_jobs=2)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_sampling_reads_the_trials_through_optunas_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # One uncached read of the trials per trial would be one more storage round trip each.
    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=5))
    study.optimize(bowl, n_trials=8)
    uncached: list[bool] = []
    original = optuna.Study._get_trials

    def counting(self: optuna.Study, *args: object, **kwargs: object) -> object:
        if not kwargs.get("use_cache", False):
            uncached.append(True)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(optuna.Study, "_get_trials", counting)
    for _ in range(5):
        trial = study.ask()
        bowl(trial)
        monkeypatch.setattr(optuna.Study, "_get_trials", original)
        study.tell(trial, 1.0)
        monkeypatch.setattr(optuna.Study, "_get_trials", counting)
    assert not uncached


# --- RLSampler and RLPruner together --------------------------------------------------------


def test_sampler_and_pruner_together_the_agent_starts() -> None:
    # The README's one-line configuration. Pruned trials are results: they end the start-up
    # phase as completed ones do, so pruning start-up trials cannot keep the agent from starting.
    study = optuna.create_study(sampler=RLSampler(seed=0), pruner=RLPruner())
    study.optimize(learning_curve, n_trials=60)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.PRUNED) >= 10
    actions = [who(t) for t in study.trials]
    assert actions.count("startup") == 9
    assert n_agent_moves(study) == 50
    # Pruned trials teach the agent too (ranked after the completed ones).
    agent = study.sampler.agent_for(study)
    assert agent.n_updates == 50
    assert study.best_value < 25.0


# --- Every trial says who chose its parameters ----------------------------------------------


def test_every_trial_says_who_chose_its_parameters() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=3))
    study.enqueue_trial({"x": 0.5, "y": 0.5})
    study.optimize(bowl, n_trials=8)
    actions = [who(t) for t in study.trials]
    # Trial 0 is enqueued (all its values fixed); trials 1 and 2 come from the start-up design;
    # the agent chooses from trial 3 on.
    assert actions[0] == "enqueued"
    assert actions[1:3] == ["startup", "startup"]
    assert all(a in {action.name for action in ACTIONS} for a in actions[3:])
    fresh = optuna.create_study(sampler=RLSampler(seed=0))
    fresh.optimize(bowl, n_trials=1)
    assert who(fresh.trials[0]) == "independent"


def test_an_exhausted_grid_records_what_was_done() -> None:
    # Four configurations in all: once they are evaluated, every proposal and every restart
    # repeats one. The decision must say that a restart chose the point, from no anchor.
    def tiny(trial: Trial) -> float:
        return float(trial.suggest_int("a", 0, 1) + 2 * trial.suggest_int("b", 0, 1))

    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=2))
    study.optimize(tiny, n_trials=12)
    late = study.trials[6:]
    assert {tuple(t.params.values()) for t in study.trials} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for t in late:
        decision = t.system_attrs[DECISION_KEY]
        assert decision["a"] == RESTART, decision
        assert decision["n"] == -1
        assert who(t) == "restart"


def test_nothing_is_lost_whatever_the_objective_returns() -> None:
    values = iter([1.0, math.nan, math.inf, -math.inf, 2.0] * 8)

    def odd(trial: Trial) -> float:
        bowl(trial)
        value = next(values)
        if value == 2.0:
            raise ValueError("boom")
        return value

    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=3), pruner=RLPruner())
    study.optimize(odd, n_trials=30, catch=(ValueError,))
    assert len(study.trials) == 30
    assert all(t.state.is_finished() for t in study.trials)
    assert np.all(np.isfinite(study.sampler.agent_for(study).q))


def _blas_threads() -> set[int]:
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_blas_is_limited_for_the_model_only_when_no_other_thread_runs() -> None:
    # The limit is process-wide: set while the sampler fits its model in a single-threaded
    # process, never while another thread (Optuna's n_jobs workers) may run the user's code.
    with threadpool_limits(limits=2, user_api="blas"):
        with single_threaded_blas():
            assert _blas_threads() == {1}
        assert _blas_threads() == {2}
        release = threading.Event()
        worker = threading.Thread(target=release.wait)
        worker.start()
        try:
            with single_threaded_blas():
                assert _blas_threads() == {2}
        finally:
            release.set()
            worker.join()
