"""The model-guided move's local metric (:mod:`optuna_rl.sampling.metric`): what it measures of
the best neighbours, and that the move uses it."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl.sampling import moves
from optuna_rl.sampling.metric import MAX_CONDITION
from optuna_rl.sampling.metric import local_metric
from optuna_rl.sampling.moves import MIN_STEP_SIZE
from optuna_rl.sampling.moves import SPANNING_SHARE
from optuna_rl.sampling.moves import MoveContext
from optuna_rl.sampling.moves import surrogate_step
from optuna_rl.sampling.space import Point


ALONG = np.array([1.0, 1.0]) / np.sqrt(2.0)
ACROSS = np.array([1.0, -1.0]) / np.sqrt(2.0)


def _valley(x: np.ndarray) -> np.ndarray:
    """A diagonal valley through the centre, 10,000 times steeper across than along."""
    z = x - 0.5
    return (z @ ALONG) ** 2 + 1e4 * (z @ ACROSS) ** 2


def _valley_points(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    along = rng.normal(size=(n, 1)) * 0.05 * ALONG
    across = rng.normal(size=(n, 1)) * 0.002 * ACROSS
    x = np.clip(0.5 + along + across, 0.0, 1.0)
    return x, _valley(x)


def test_the_shape_follows_the_best_points_and_keeps_the_step_length() -> None:
    x, y = _valley_points(np.random.default_rng(0))
    metric = local_metric(x, y)
    assert metric is not None
    # The longest axis of the shape is the valley's; its scales have a geometric mean of 1.
    scales = np.linalg.norm(metric.shape, axis=0)
    longest = metric.shape[:, np.argmax(scales)] / scales.max()
    assert abs(longest @ ALONG) > 0.99
    assert scales.max() / scales.min() > 3.0
    assert np.prod(scales) == pytest.approx(1.0)


def test_whitened_steps_of_the_shape_are_round() -> None:
    x, y = _valley_points(np.random.default_rng(1))
    metric = local_metric(x, y)
    assert metric is not None
    # A step drawn in the shape, seen in the model's coordinates, is the same in every direction.
    product = metric.shape.T @ metric.whiten
    assert np.allclose(product, product[0, 0] * np.eye(2))


def test_the_metric_scales_with_the_points() -> None:
    x, y = _valley_points(np.random.default_rng(2))
    metric, small = local_metric(x, y), local_metric(0.5 + 1e-3 * (x - 0.5), y)
    assert metric is not None and small is not None
    assert np.allclose(np.abs(small.shape), np.abs(metric.shape))
    assert np.allclose(np.abs(small.whiten), 1e3 * np.abs(metric.whiten))


def test_points_on_a_line_give_a_bounded_condition() -> None:
    t = np.linspace(0.0, 1.0, 30)
    x = np.column_stack([t, t, 0.5 * np.ones_like(t)])
    metric = local_metric(x, np.abs(t - 0.3))
    assert metric is not None
    assert np.all(np.isfinite(metric.whiten))
    scales = np.linalg.norm(metric.shape, axis=0)
    assert (scales.max() / scales.min()) ** 2 <= MAX_CONDITION * (1 + 1e-9)


@pytest.mark.parametrize(
    "x",
    [np.random.default_rng(3).random((20, 1)), np.full((20, 3), 0.25)],
    ids=["one coordinate", "coincident points"],
)
def test_no_metric_without_a_shape_to_learn(x: np.ndarray) -> None:
    assert local_metric(x, np.arange(20.0)) is None


def _model_step_from_the_best(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, step_size: float
) -> Point:
    """The model-guided move from the best of the observed points ``x`` (numeric only, values
    ``y``), its 12 best as the elites."""
    no_choices = np.zeros(0, dtype=np.int64)
    elites = [Point(x[i], no_choices) for i in np.argsort(y)[:12]]
    return surrogate_step(rng, elites[0], MoveContext(elites, step_size, no_choices, x, y))


def test_the_model_guided_move_follows_a_narrow_valley() -> None:
    # With the range's metric the move beat the median neighbour in 3 of these 20 cases: round
    # candidates of the step size leave a valley 0.002 wide.
    better = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y = _valley_points(rng)
        point = _model_step_from_the_best(rng, x, y, 0.02)
        better += bool(_valley(point.numeric) < np.median(y))
    assert better >= 14


def test_best_points_that_share_an_int_value_leave_room_to_move_it() -> None:
    rng = np.random.default_rng(4)
    x = np.column_stack([0.5 + 1e-4 * rng.normal(size=(40, 2)), np.full(40, 0.5)])
    y = ((x[:, :2] - 0.5) ** 2).sum(1)
    resolution = np.array([0.0, 0.0, 1.0 / 7.0])  # An int parameter with 7 values.
    continuous, grid = local_metric(x, y), local_metric(x, y, resolution)
    assert continuous is not None and grid is not None
    # Without the grid the shared value is the narrowest direction (only the shrinkage toward
    # a sphere keeps it open); with it, a step of the shape moves the int coordinate furthest.
    scales, grid_scales = (
        np.linalg.norm(continuous.shape, axis=1),
        np.linalg.norm(grid.shape, axis=1),
    )
    assert np.argmin(scales) == 2
    assert np.argmax(grid_scales) == 2
    assert grid_scales[2] > 2.0 * scales[2]


def _bowl_with_an_int(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    n = trial.suggest_int("n", -3, 3)
    return (x - 1.0) ** 2 + (y + 0.5) ** 2 + (n - 1) ** 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_study_does_not_get_stuck_on_an_int_value(seed: int) -> None:
    # Without the grid's resolution in the metric seeds 0 and 1 ended 300 trials on n = 3 and
    # n = 2 (best values 4 and 1); with it but without the grid margin (moves.grid_margin) seed
    # 1 or 2 did (one of 20 seeds), its elites all on n = 2 and the agent taking differential
    # steps, which cannot leave a grid point the elites share.
    study = optuna.create_study(sampler=RLSampler(seed=seed))
    study.optimize(_bowl_with_an_int, n_trials=300)
    assert study.best_params["n"] == 1
    assert study.best_value < 1e-3


def _bowl_points(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    x = 0.5 + 0.05 * rng.normal(size=(n, 3))
    return x, ((x - 0.5) ** 2).sum(1)


@pytest.mark.parametrize("spanning_share", [SPANNING_SHARE, 0.0], ids=["spanning", "step only"])
def test_the_model_guided_move_is_not_held_by_a_collapsed_step_size(
    spanning_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The step size at its floor, the best points 0.05 apart: candidates of the step size alone
    # cannot bring the best point a fifth closer to the bowl's centre (squared distance); with
    # candidates spanning up to the best points' spread the move does so in 14 of these 20.
    monkeypatch.setattr(moves, "SPANNING_SHARE", spanning_share)
    closer = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y = _bowl_points(rng)
        point = _model_step_from_the_best(rng, x, y, MIN_STEP_SIZE)
        closer += bool(((point.numeric - 0.5) ** 2).sum() < 0.8 * y.min())
    if spanning_share > 0.0:
        assert closer >= 12
    else:
        assert closer == 0


def test_the_metric_measures_the_spread_of_the_best_points() -> None:
    x, y = _bowl_points(np.random.default_rng(5), n=400)
    metric = local_metric(x, y)
    assert metric is not None
    # The best quarter of a round Gaussian cloud of standard deviation 0.05 lies within about
    # its inner half: a spread near 0.05 / 2.
    assert 0.01 < metric.size < 0.05
    shrunk = local_metric(0.5 + 0.1 * (x - 0.5), y)
    assert shrunk is not None
    assert shrunk.size == pytest.approx(0.1 * metric.size)
