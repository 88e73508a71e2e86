"""The pruning benchmark's replay and metrics, on tiny synthetic curve pools, in-process."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import Any

import numpy as np
import pytest


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pruning", BENCHMARKS / "pruning.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pruning", module)
    spec.loader.exec_module(module)
    return module


pruning = _load_benchmark()
HORIZON = 6


def _pool(direction: str = "maximize", n: int = 16) -> Any:
    """Saturating curves whose ceiling (the final value) differs by configuration."""
    rng = np.random.default_rng(0)
    ceiling = np.linspace(0.2, 0.95, n)
    rng.shuffle(ceiling)
    epochs = np.arange(1, HORIZON + 1)
    curves = ceiling[:, None] * (1.0 - np.exp(-0.8 * epochs))
    if direction == "minimize":
        curves = 1.0 - curves
    params = {"lr": np.geomspace(1e-4, 1e-1, n), "optimizer": np.array(["adam", "sgd"] * (n // 2))}
    return pruning.CurvePool("synthetic", "accuracy", direction, curves, params)


def test_nop_consumes_the_full_budget_and_finds_the_best_it_sampled() -> None:
    pool = _pool()
    result = pruning.run_one(pool, "Nop", seed=3, n_trials=12)
    assert result.epochs == 12 * HORIZON
    assert result.n_pruned == 0
    assert len(result.anytime) == 12 * HORIZON
    configs = [r.config for r in result.records]
    assert [r.final for r in result.records] == [pool.curves[c, -1] for c in configs]
    assert pruning.best_final(result, pool) == max(pool.finals[configs])
    (row,) = pruning.run_rows([result], {"synthetic": pool})
    assert row["saving"] == 1.0
    assert row["delta_best_pct"] == 0.0
    assert row["area"] == pytest.approx(result.anytime.mean())


def test_equal_budget_spends_nop_budget_and_buys_more_trials_with_savings() -> None:
    pool = _pool()
    n_trials = 20
    results = {
        name: pruning.run_one(pool, name, seed=2, n_trials=n_trials, equal_budget=True)
        for name in pruning.PRUNERS
    }
    nop = results["Nop"]
    assert len(nop.records) == n_trials and nop.n_pruned == 0
    for name, result in results.items():
        assert result.epochs == n_trials * HORIZON, name
        configs = [r.config for r in result.records]
        # Same sampler stream: the first trials meet Nop's configurations in Nop's order.
        assert configs[:n_trials] == [r.config for r in nop.records][: len(configs)], name
        if result.n_pruned:
            assert len(result.records) > n_trials, name
        assert all(r.epochs == HORIZON for r in result.records if r.final is not None)


def test_every_pruner_meets_the_same_configurations_and_spends_no_more_than_nop() -> None:
    pool = _pool()
    results = [pruning.run_one(pool, name, seed=1, n_trials=20) for name in pruning.PRUNERS]
    nop = results[0]
    assert nop.pruner == "Nop"
    rows = pruning.run_rows(results, {"synthetic": pool})
    for result, row in zip(results, rows, strict=True):
        assert [r.config for r in result.records] == [r.config for r in nop.records]
        assert all(1 <= r.epochs <= HORIZON for r in result.records)
        assert all(r.epochs == HORIZON for r in result.records if r.final is not None)
        assert row["saving"] == nop.epochs / result.epochs >= 1.0
        assert row["delta_best_pct"] <= 0.0
    median = rows[list(pruning.PRUNERS).index("Median")]
    assert median["epochs"] < nop.epochs


def test_anytime_regret_follows_the_best_completed_final_by_hand() -> None:
    curves = np.array([[0.1, 0.2], [0.3, 0.6], [0.5, 1.0], [0.2, 0.4], [0.1, 0.1]])
    pool = pruning.CurvePool("hand", "accuracy", "maximize", curves, {})
    assert pool.best_final == 1.0 and pool.median_final == 0.4
    records = [
        pruning.TrialRecord(config=0, epochs=2, final=0.2),
        pruning.TrialRecord(config=2, epochs=1, final=None),
        pruning.TrialRecord(config=1, epochs=2, final=0.6),
        pruning.TrialRecord(config=2, epochs=2, final=1.0),
    ]
    regret = pruning.anytime_regret(records, pool, budget=10)
    # Nothing completed before epoch 2; 0.2 is worse than the median (clipped to 1); 0.6 closes
    # (1.0 - 0.6) / (1.0 - 0.4) = 2/3 of the gap at epoch 5; the pool best at epoch 7, and
    # nothing changes once the trials are over.
    expected = np.array([1, 1, 1, 1, 2 / 3, 2 / 3, 0, 0, 0, 0])
    np.testing.assert_allclose(regret, expected)
    result = pruning.RunResult("hand", "x", 0, tuple(records), regret)
    assert result.epochs == 7 and result.n_pruned == 1
    assert result.area == pytest.approx(expected.mean())


def test_minimisation_flips_regret_best_and_the_sign_of_the_difference() -> None:
    pool = _pool("minimize")
    assert pool.best_final == pool.finals.min()
    assert pruning.delta_best_percent(0.9, 1.0, pool) == pytest.approx(10.0)
    assert pruning.delta_best_percent(1.1, 1.0, pool) == pytest.approx(-10.0)
    best = int(np.argmin(pool.finals))
    records = [pruning.TrialRecord(best, HORIZON, float(pool.finals[best]))]
    assert pruning.anytime_regret(records, pool, budget=HORIZON)[-1] == 0.0
    winners = pool.winners(0.25)
    assert winners.sum() == 4
    assert pool.finals[winners].max() < pool.finals[~winners].min()


def test_summary_averages_seeds_and_counts_pruned_winners() -> None:
    pool = _pool()
    results = [
        pruning.run_one(pool, name, seed, n_trials=10)
        for seed in (0, 1)
        for name in ("Nop", "SuccessiveHalving")
    ]
    rows = pruning.run_rows(results, {"synthetic": pool})
    summary = {s["pruner"]: s for s in pruning.summarise(rows)}
    halving = [r for r in rows if r["pruner"] == "SuccessiveHalving"]
    assert summary["Nop"]["saving"] == 1.0 and summary["Nop"]["pruned_pct"] == 0.0
    assert summary["Nop"]["winners_pruned_pct"] == 0.0
    assert summary["SuccessiveHalving"]["epochs"] == pytest.approx(
        np.mean([r["epochs"] for r in halving])
    )
    assert summary["SuccessiveHalving"]["saving"] == pytest.approx(
        np.mean([r["saving"] for r in halving])
    )
    winners = pool.winners()
    lost = sum(
        r.final is None and winners[r.config]
        for res in results
        if res.pruner == "SuccessiveHalving"
        for r in res.records
    )
    assert sum(r["winners_pruned"] for r in halving) == lost


def test_curve_pool_round_trips_through_its_file(tmp_path: Path) -> None:
    pool = _pool("minimize")
    pool.save(tmp_path / "pool.npz")
    loaded = pruning.CurvePool.load(tmp_path / "pool.npz")
    assert (loaded.task, loaded.metric, loaded.direction) == ("synthetic", "accuracy", "minimize")
    np.testing.assert_allclose(loaded.curves, pool.curves, rtol=1e-6)
    assert list(loaded.params["optimizer"]) == list(pool.params["optimizer"])
    np.testing.assert_allclose(loaded.params["lr"], pool.params["lr"])


def test_a_replay_is_reproducible_under_every_pruner() -> None:
    pool = _pool()
    for name in pruning.PRUNERS:
        first, second = (pruning.run_one(pool, name, seed=5, n_trials=15) for _ in range(2))
        assert first.records == second.records
        np.testing.assert_array_equal(first.anytime, second.anytime)


def test_frontier_replays_the_benchmark_draws_and_scores_rules() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import pruning_frontier as frontier
    finally:
        sys.path.remove(str(BENCHMARKS))
    pool = _pool()
    nop = pruning.run_one(pool, "Nop", seed=4, n_trials=15)
    np.testing.assert_array_equal(frontier.draws(pool, 4, 15), [r.config for r in nop.records])
    # These curves never cross: keeping the better half at epoch 1 saves epochs and never
    # loses the best configuration.
    scores = frontier.score_all(pool, seeds=[0, 1], n_trials=30)
    halving = next(s for s in scores if s.rule.rungs == ((0, 0.5),))
    assert halving.saving > 1.2
    assert halving.delta_best_pct == 0.0
    best_saving, _ = frontier.frontier(scores)
    assert best_saving is not None and best_saving.saving >= halving.saving


def _benchmark_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_every_pruner_of_the_field_and_the_ablations_runs() -> None:
    pool = _pool()
    for name in pruning.ALL_PRUNERS:
        result = pruning.run_one(pool, name, seed=0, n_trials=12)
        assert len(result.records) == 12, name


def test_the_replay_without_optuna_decides_as_rlpruner_does() -> None:
    from optuna_rl.pruning.learner import CurveLearner
    from optuna_rl.pruning.prior import load_prior

    replay = _benchmark_module("_pruner_replay").replay
    frontier = _benchmark_module("pruning_frontier")
    pool = _pool()
    n_trials = 20
    for equal_budget in (False, True):
        result = pruning.run_one(pool, "RLPruner", 3, n_trials, equal_budget=equal_budget)
        assert result.n_pruned > 0
        records = replay(
            pool.curves,
            pool.sign,
            frontier.draws(pool, 3, len(result.records)),
            CurveLearner(0.1, 0, load_prior()),
            n_startup_trials=1,
            n_trials=None if equal_budget else n_trials,
            epoch_budget=n_trials * HORIZON if equal_budget else None,
        )
        assert [tuple(r) for r in records] == [
            (r.config, r.epochs, r.final) for r in result.records
        ]


def test_prior_training_keeps_what_the_studies_taught_without_the_prior() -> None:
    from optuna_rl.pruning.learner import CurveLearner
    from optuna_rl.pruning.prior import PriorTable
    from optuna_rl.pruning.state import N_STATES
    from optuna_rl.pruning.state import PRUNE

    train = _benchmark_module("train_pruner_prior")
    pool = _pool(n=16)
    prior = PriorTable(np.full((N_STATES, 2), -0.3), np.full((N_STATES, 2), 7))
    with_prior, alone = CurveLearner(0.1, 0, prior), CurveLearner(0.1, 0)
    replay = _benchmark_module("_pruner_replay").replay
    configs = np.arange(16)
    # No pruning before every trial has completed: both learners see the same curves.
    for learner in (with_prior, alone):
        replay(pool.curves, pool.sign, configs, learner, n_startup_trials=100, n_trials=16)
    taught, expected = train.study_sums(with_prior), train.study_sums(alone)
    np.testing.assert_array_equal(taught.count, expected.count)
    np.testing.assert_allclose(taught.total[:, PRUNE], expected.total[:, PRUNE], atol=1e-9)
    combined = train.combine([taught, expected], weight=10.0)
    seen = expected.count[:, PRUNE] >= 5
    np.testing.assert_array_equal(combined.weight[seen, PRUNE], 10)
    np.testing.assert_allclose(combined.q[seen, PRUNE], expected.mean()[seen, PRUNE], atol=1e-9)
