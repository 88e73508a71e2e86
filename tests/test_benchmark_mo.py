"""The multi-objective and constrained benchmarks: problem formulas at known optimal points, the
hypervolume indicator on hand-computed fronts, and each script on a tiny grid."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import sys

import numpy as np
import optuna
import pandas as pd
import pytest


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

import _common  # noqa: E402
import _engineering  # noqa: E402
import _mo_problems  # noqa: E402
import _wfg  # noqa: E402
import constrained  # noqa: E402
import mo  # noqa: E402


@pytest.fixture(autouse=True)
def _keep_process_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The scripts quieten Optuna and cap threads for the whole process: undo it after a test."""
    for module in (mo, constrained):
        monkeypatch.setattr(module, "limit_threads", lambda: None)
    verbosity = optuna.logging.get_verbosity()
    yield
    optuna.logging.set_verbosity(verbosity)


def _with_rest(first: np.ndarray, n: int, rest: float) -> np.ndarray:
    """Points whose first coordinate is ``first`` and whose other ``n - 1`` are ``rest``."""
    x = np.full((len(first), n), rest)
    x[:, 0] = first
    return x


def _non_dominated_2d(points: np.ndarray) -> np.ndarray:
    ordered = points[np.lexsort((points[:, 1], points[:, 0]))]
    best = np.minimum.accumulate(ordered[:, 1])
    return ordered[np.concatenate([[True], ordered[1:, 1] < best[:-1]])]


# ZDT and DTLZ -----------------------------------------------------------------------------------

U = np.linspace(0.0, 1.0, 101)


def test_zdt_fronts_where_the_other_variables_are_optimal() -> None:
    problems = _mo_problems.PROBLEMS
    for name, curve in (
        ("ZDT1", lambda f1: 1 - np.sqrt(f1)),
        ("ZDT2", lambda f1: 1 - f1**2),
        ("ZDT3", lambda f1: 1 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)),
        ("ZDT4", lambda f1: 1 - np.sqrt(f1)),
    ):
        f = problems[name].evaluate(_with_rest(U, problems[name].dim, 0.0))
        np.testing.assert_allclose(f[:, 0], U)
        np.testing.assert_allclose(f[:, 1], curve(U), atol=1e-12, err_msg=name)
    f = problems["ZDT6"].evaluate(_with_rest(U, 10, 0.0))
    np.testing.assert_allclose(f[:, 1], 1 - f[:, 0] ** 2, atol=1e-12)
    # Away from x[1:] = 0, g > 1 moves every point off the front (ZDT4: off its global front).
    off = problems["ZDT1"].evaluate(_with_rest(U, 30, 0.1))
    assert np.all(off[:, 1] > 1 - np.sqrt(U))
    off = problems["ZDT4"].evaluate(_with_rest(U[1:], 10, 1.0))  # a local front: g = 1 + 9
    np.testing.assert_allclose(off[:, 1], 10 * (1 - np.sqrt(U[1:] / 10)))


def test_dtlz_fronts_where_the_distance_variables_are_optimal() -> None:
    grid = np.stack(np.meshgrid(U[::10], U[::10]), axis=-1).reshape(-1, 2)
    problems = _mo_problems.PROBLEMS

    def at(name: str, rest: float) -> np.ndarray:
        x = np.full((len(grid), problems[name].dim), rest)
        x[:, :2] = grid
        return problems[name].evaluate(x)

    np.testing.assert_allclose(at("DTLZ1", 0.5).sum(axis=1), 0.5)
    for name in ("DTLZ2", "DTLZ3", "DTLZ4"):
        np.testing.assert_allclose(np.linalg.norm(at(name, 0.5), axis=1), 1.0, err_msg=name)
        assert np.all(np.linalg.norm(at(name, 0.6), axis=1) > 1.0)
    f = at("DTLZ7", 0.0)
    np.testing.assert_allclose(f[:, :2], grid)
    phi = grid / 2 * (1 + np.sin(3 * np.pi * grid))
    np.testing.assert_allclose(f[:, 2], 2 * (3 - phi.sum(axis=1)))
    # DTLZ2's corners: the unit vectors.
    corners = problems["DTLZ2"].evaluate(np.array([[0, 0] + [0.5] * 10, [1, 1] + [0.5] * 10]))
    np.testing.assert_allclose(corners, [[1, 0, 0], [0, 0, 1]], atol=1e-12)


def test_stored_ideal_and_nadir_points_match_dense_fronts() -> None:
    t = np.linspace(0.0, 1.0, 200_001)
    zdt3 = _non_dominated_2d(np.stack([t, 1 - np.sqrt(t) - t * np.sin(10 * np.pi * t)], axis=1))
    np.testing.assert_allclose(zdt3.min(axis=0), _mo_problems.ZDT3_IDEAL, atol=1e-5)
    np.testing.assert_allclose(zdt3.max(axis=0), _mo_problems.ZDT3_NADIR, atol=1e-5)
    zdt6_f1 = 1 - np.exp(-4 * t) * np.sin(6 * np.pi * t) ** 6
    assert zdt6_f1.min() == pytest.approx(_mo_problems.ZDT6_F1_MIN, abs=1e-8)
    # DTLZ7 (M = 3): f3 = 6 - 2 (phi(f1) + phi(f2)), separable, so its front is the product of
    # the 1-D non-dominated sets of (t, -phi(t)).
    one_d = _non_dominated_2d(np.stack([t, -t / 2 * (1 + np.sin(3 * np.pi * t))], axis=1))
    assert one_d[:, 0].max() == pytest.approx(_mo_problems.DTLZ7_NADIR[0], abs=1e-5)
    assert 6 + 4 * one_d[:, 1].min() == pytest.approx(_mo_problems.DTLZ7_IDEAL[2], abs=1e-8)
    for problem in _mo_problems.PROBLEMS.values():
        assert problem.lower.shape == problem.upper.shape == (problem.dim,)
        assert np.all(problem.ideal < problem.nadir), problem.name


# WFG --------------------------------------------------------------------------------------------

WFG_REFERENCE = {
    # pymoo 0.6.1.5, get_problem("wfgK", n_var=24, n_obj=2, k=4), at the point of _wfg_point().
    "WFG1": (2.5976838062, 1.55803237365),
    "WFG2": (0.85008153079, 4.61739831267),
    "WFG3": (1.23490842491, 3.40490842491),
    "WFG4": (1.68230166524, 3.39318273208),
    "WFG5": (1.84080604538, 3.57997424405),
    "WFG6": (2.31274585951, 2.92084034239),
    "WFG7": (1.42113503522, 4.01897866194),
    "WFG8": (1.42551340377, 4.05321844294),
    "WFG9": (2.52547406163, 2.30581228505),
}


def _wfg_point() -> np.ndarray:
    n = 24
    return 2.0 * np.arange(1, n + 1) * ((np.arange(n) * 0.37) % 1.0)


@pytest.mark.parametrize("name", list(_wfg.WFG_FUNCTIONS))
def test_wfg_matches_an_independent_implementation_off_the_front(name: str) -> None:
    f = _mo_problems.PROBLEMS[name].evaluate(_wfg_point())
    np.testing.assert_allclose(f, WFG_REFERENCE[name], rtol=1e-9)


def _wfg_front(name: str, n_points: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    size = _mo_problems.WFG_SIZE
    if name == "WFG1":
        # Distance parameters 7..11, where z_i / (2i) rounds back to 0.35 exactly (see
        # wfg_optimal_point); and positions spread as y^50 against the bias y^0.02.
        size = _wfg.WFGSize(k=6, l=5, m=2)
    positions = rng.random((n_points, size.k)) ** (50.0 if name == "WFG1" else 1.0)
    z = np.stack([_wfg.wfg_optimal_point(name, p, size) for p in positions])
    return _wfg.WFG_FUNCTIONS[name](z, size)


@pytest.mark.parametrize("name", list(_wfg.WFG_FUNCTIONS))
def test_wfg_optimal_points_lie_on_the_front_shape(name: str) -> None:
    f = _wfg_front(name)
    problem = _mo_problems.PROBLEMS[name]
    assert np.all(f >= problem.ideal - 1e-12) and np.all(f <= problem.nadir + 1e-12)
    f1, f2 = f[:, 0] / 2, f[:, 1] / 4  # h_1, h_2 (S = 2, 4; the distance term is 0)
    if name == "WFG3":  # linear
        np.testing.assert_allclose(f1 + f2, 1.0, atol=1e-12)
    elif name in ("WFG1", "WFG2"):  # convex h_1 = 1 - cos(x pi / 2), then mixed / disconnected
        x = np.arccos(1 - f1) * 2 / np.pi
        if name == "WFG1":
            expected = 1 - x - np.cos(10 * np.pi * x + np.pi / 2) / (10 * np.pi)
        else:
            expected = 1 - x * np.cos(5 * np.pi * x) ** 2
        np.testing.assert_allclose(f2, expected, atol=1e-9)
    else:  # concave: a quarter ellipse
        np.testing.assert_allclose(f1**2 + f2**2, 1.0, atol=1e-12)


def test_wfg_distance_parameters_off_their_optimum_are_dominated() -> None:
    size = _mo_problems.WFG_SIZE
    for name in ("WFG1", "WFG4", "WFG9"):
        z = _wfg.wfg_optimal_point(name, np.full(size.k, 0.5), size)
        worse = z.copy()
        worse[size.k + 3] *= 1.5
        f_opt, f_worse = (_mo_problems.PROBLEMS[name].evaluate(p) for p in (z, worse))
        assert np.all(f_worse >= f_opt) and np.any(f_worse > f_opt), name


def test_wfg_transformations_at_their_defining_points() -> None:
    assert _wfg.s_linear(np.array(0.35), 0.35) == 0.0
    assert _wfg.s_multi(np.array(0.35), 30, 10, 0.35) == pytest.approx(0.0, abs=1e-12)
    assert _wfg.s_decept(np.array(0.35), 0.35, 0.001, 0.05) == pytest.approx(0.0, abs=1e-12)
    assert _wfg.b_flat(np.array(0.8), 0.8, 0.75, 0.85) == pytest.approx(0.8)
    y = np.array([[0.2, 0.4, 0.9]])
    assert _wfg.r_sum(y, np.ones(3))[0] == pytest.approx(0.5)
    assert _wfg.r_nonsep(y, 1)[0] == pytest.approx(0.5)  # degree 1 is the mean


# Engineering ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(_engineering.PROBLEMS))
def test_engineering_best_points_are_feasible_and_match_the_literature(name: str) -> None:
    problem = _engineering.PROBLEMS[name]
    x = problem.best_point
    assert np.all(problem.lower <= x) and np.all(x <= problem.upper)
    assert np.all(x[problem.integer] == np.round(x[problem.integer]))
    assert np.all(problem.constraints(x) <= 0.0)
    assert problem.objective(x) == pytest.approx(problem.best_value, rel=1e-6)
    # A little better on every variable breaks a constraint: the optimum is on the boundary.
    step = np.where(problem.integer, 0.0, 1e-4 * (problem.upper - problem.lower))
    cheaper = min((x + s * step for s in (-1, 1)), key=problem.objective)
    if problem.objective(cheaper) < problem.best_value:
        assert np.any(problem.constraints(cheaper) > 0.0)


# Hypervolume ------------------------------------------------------------------------------------


def test_hypervolume_of_hand_computed_fronts() -> None:
    reference = np.array([1.1, 1.1])
    front = np.array([[0.2, 0.8], [0.5, 0.5], [0.8, 0.2]])
    # Slabs left to right: 0.3 x 0.3 + 0.3 x 0.6 + 0.3 x 0.9.
    assert mo.hypervolume(front, reference) == pytest.approx(0.54)
    extra = np.vstack([front, [[0.6, 0.6], [1.2, 0.1], [0.5, 0.5]]])  # dominated, outside, twice
    assert mo.hypervolume(extra, reference) == pytest.approx(0.54)
    # 3-D: two boxes of 0.5 and 0.25 that overlap in 0.125.
    boxes = np.array([[0.0, 0.0, 0.5], [0.5, 0.5, 0.0]])
    assert mo.hypervolume(boxes, np.ones(3)) == pytest.approx(0.625)
    assert mo.hypervolume(np.empty((0, 2)), reference) == 0.0


def test_indicator_trace_counts_distance_until_a_point_is_inside() -> None:
    points = np.array(
        [
            [1.4, 1.5],  # 0.5 from the box (0.3, 0.4)
            [1.1, 1.6],  # 0.5 too
            [2.0, 1.1],  # 0.9: no better
            [0.1, 0.1],  # inside: 1 x 1
            [0.5, 0.5],  # dominated
            [np.nan, np.nan],  # a failed trial
            [0.05, 1.0],  # adds 0.05 x 0.1
        ]
    )
    trace = mo.indicator_trace(points, np.array([1.1, 1.1]))
    np.testing.assert_allclose(trace, [-0.5, -0.5, -0.5, 1.0, 1.0, 1.0, 1.005])
    normalised = mo.normalise(np.array([[3.0, 10.0]]), np.array([1.0, 0.0]), np.array([5.0, 20.0]))
    np.testing.assert_allclose(normalised, [[0.5, 0.5]])


def test_mo_ranks_by_hypervolume_higher_is_better() -> None:
    rows = []
    for problem, scores in (("ZDT1", (0.9, 0.5)), ("ZDT2", (0.2, 0.2))):
        for sampler, score in zip(("NSGAIISampler", "RandomSampler"), scores, strict=True):
            rows.append(
                {
                    "sampler": sampler,
                    "suite": "zdt",
                    "problem": problem,
                    "dim": 30,
                    "instance": 1,
                    "seed": 0,
                    "n_trials": 60,
                    "status": "ok",
                    "seconds": 0.1,
                    "hv_trace": _common.encode_trace(np.full(60, score)),
                    "note": "",
                }
            )
    runs, unsupported = mo.load_runs(pd.DataFrame(rows))
    assert unsupported.empty
    table = mo.rank_table(runs)
    assert list(table.columns) == ["ZDT @50", "ZDT @60", "all @50", "all @60"]
    assert table.loc["NSGAIISampler", "all @60"] == 1.25  # a win and a tie
    assert mo.budgets(200) == [50, 100, 200] and mo.budgets(60) == [50, 60]


def test_constrained_ranks_feasibility_first_then_regret() -> None:
    rows = []
    # A: feasible on all seeds, regret 1; B: better regret but one seed never feasible; C: never.
    for sampler, finals in (
        ("RLSampler", (1.0, 1.0)),
        ("TPESampler", (1e-6, np.inf)),
        ("RandomSampler", (np.inf, np.inf)),
    ):
        for seed, final in enumerate(finals):
            best = np.full(30, np.inf)
            best[20:] = final
            rows.append(
                {
                    "sampler": sampler,
                    "suite": "bbob-constrained",
                    "problem": "f01",
                    "dim": 2,
                    "instance": 1,
                    "seed": seed,
                    "n_trials": 30,
                    "n_constraints": 1,
                    "f_opt": 0.0,
                    "feasible_trials": 10 if np.isfinite(final) else 0,
                    "seconds": 0.1,
                    "best_trace": _common.encode_trace(best),
                }
            )
    runs = constrained.load_runs(pd.DataFrame(rows))
    final = constrained.at_budget(runs, 30).set_index("sampler")
    assert final.loc["TPESampler", "regret"] == pytest.approx(-6.0)
    assert final.loc["TPESampler", "feasible"] == 0.5
    ranks, feasible = constrained.budget_tables(runs)
    assert ranks["all @30"].to_dict() == {
        "RLSampler": 1.0,
        "TPESampler": 2.0,
        "RandomSampler": 3.0,
    }
    assert feasible.loc["RandomSampler", "all @25"] == 0.0  # nothing feasible before trial 21
    table = constrained.per_problem_table(runs, constrained.at_budget(runs, 30), ["TPESampler"])
    assert table.iloc[0, 0] == "-6.00 (2.0) [50% feasible]"


# COCO -------------------------------------------------------------------------------------------


def test_biobj_bounds_are_the_two_single_objective_optima() -> None:
    import cocoex

    problem = mo.biobj_problem(10, 2, 1)  # sphere / Gallagher 101 peaks
    assert mo.BIOBJ_PAIRS[9] == (1, 21)
    first = cocoex.BareProblem("bbob", 1, 2, 2)
    second = cocoex.BareProblem("bbob", 21, 2, 4)
    at_first = problem.evaluate(first.best_parameter())
    at_second = problem.evaluate(second.best_parameter())
    np.testing.assert_allclose([at_first[0], at_second[1]], problem.ideal)
    np.testing.assert_allclose([at_second[0], at_first[1]], problem.nadir)
    assert np.all(np.abs(first.best_parameter()) <= mo.BIOBJ_BOX)


def test_coco_constrained_optimum_is_feasible_and_leaves_no_file() -> None:
    import cocoex

    before = set(os.listdir("."))
    problem = constrained.coco_problem(3, 2, 1)  # sphere, 9 constraints
    after = set(os.listdir("."))
    assert before == after
    assert np.isfinite(problem.f_opt)
    rng = np.random.default_rng(0)
    points = rng.uniform(-5, 5, size=(500, 2))
    feasible = [x for x in points if np.all(problem.constraints(x) <= 0)]
    assert feasible and min(problem.objective(x) for x in feasible) >= problem.f_opt
    suite = cocoex.Suite("bbob-constrained", "instances: 1", "dimensions: 2 function_indices: 3")
    assert suite[0].number_of_constraints == len(problem.constraints(np.zeros(2))) == 9


# The scripts on tiny grids ----------------------------------------------------------------------


def test_mo_main_records_hypervolumes_and_refusals(tmp_path: Path) -> None:
    argv = ["--suites", "bbob-biobj", "--functions", "1", "--dims", "2", "--instances", "1"]
    argv += ["--seeds", "0", "--trials", "10", "--jobs", "1", "--out", str(tmp_path)]
    argv += ["--samplers", "RLSampler", "RandomSampler"]
    mo.main(argv)
    frame = pd.read_csv(tmp_path / "mo.csv")
    status = dict(zip(frame["sampler"], frame["status"], strict=True))
    assert status["RandomSampler"] == "ok"
    assert status["RLSampler"] in ("ok", "unsupported")  # unsupported until RLSampler is MO
    runs, unsupported = mo.load_runs(frame)
    trace = runs.set_index("sampler").loc["RandomSampler", "hv"]
    assert len(trace) == 10 and np.all(np.diff(trace) >= 0)
    text = (tmp_path / "mo.md").read_text()
    assert "## Mean hypervolume rank" in text and "nproc" in text
    if status["RLSampler"] == "unsupported":
        assert "multi-objective" in unsupported["note"].iloc[0] and "refused" in text
    assert (tmp_path / "mo_hypervolume.png").stat().st_size > 0
    mo.main(argv)  # resumes: RandomSampler's run is done; a refused run is tried again
    frame = pd.read_csv(tmp_path / "mo.csv")
    assert (frame["sampler"] == "RandomSampler").sum() == 1


def test_constrained_main_reports_feasible_regret(tmp_path: Path) -> None:
    argv = ["--suites", "bbob-constrained", "--functions", "3", "--dims", "2"]
    argv += ["--seeds", "0", "--trials", "10", "--jobs", "1", "--out", str(tmp_path)]
    argv += ["--samplers", "RLSampler", "TPESampler"]
    constrained.main(argv)
    runs = constrained.load_runs(pd.read_csv(tmp_path / "constrained.csv"))
    assert sorted(runs["sampler"]) == ["RLSampler", "TPESampler"]
    for row in runs.itertuples():
        assert len(row.best) == 10 and np.all(np.diff(row.best[np.isfinite(row.best)]) <= 0)
        assert row.n_constraints == 9 and 0 <= row.feasible_trials <= 10
        finite = np.isfinite(row.best)
        np.testing.assert_allclose(row.regret[finite], row.best[finite] - row.f_opt)
    text = (tmp_path / "constrained.md").read_text()
    assert "## Fraction of runs with a feasible point" in text and "9 constraints" in text
    assert (tmp_path / "constrained_ecdf.png").stat().st_size > 0
    constrained.main(argv)
    assert len(pd.read_csv(tmp_path / "constrained.csv")) == 2


def test_constrained_objective_reports_every_constraint_to_optuna() -> None:
    run = constrained.Run("RandomSampler", "engineering", "speed-reducer", 7, 1, 0, 8)
    problem = constrained.make_problem(run)
    feasible: list[bool] = []
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(constrained.make_objective(problem, feasible), n_trials=5)
    for trial, ok in zip(study.trials, feasible, strict=True):
        x = np.array([trial.params[f"x{i}"] for i in range(7)])
        assert isinstance(trial.params["x2"], int)  # the number of teeth
        expected = problem.constraints(x)
        assert trial.constraints == {f"c{j:02d}": pytest.approx(v) for j, v in enumerate(expected)}
        assert ok == bool(np.all(expected <= 0)) and trial.value == problem.objective(x)
    row = constrained.run_one(run)
    assert row["n_constraints"] == 11 and row["f_opt"] == problem.f_opt == 2994.471066
    best = _common.decode_trace(row["best_trace"])
    assert len(best) == 8 and np.all(np.diff(best[np.isfinite(best)]) <= 0)
