"""Property tests of the normalised space and the moves: whatever the search space, history and
step size, a move decodes to parameters Optuna accepts."""

from __future__ import annotations

import math
from typing import Any
import warnings

from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
import pytest

from optuna_rl._search_space import MAX_SNAP_LEVELS
from optuna_rl._search_space import SearchSpace
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import MAX_STEP_SIZE
from optuna_rl.sampling.moves import MIN_STEP_SIZE
from optuna_rl.sampling.moves import MoveContext
from optuna_rl.sampling.moves import available_actions
from optuna_rl.sampling.moves import grid_margin
from optuna_rl.sampling.moves import reflect
from optuna_rl.sampling.space import Point
from optuna_rl.sampling.surrogate import RankGP
from optuna_rl.sampling.surrogate import feature_groups
from optuna_rl.sampling.surrogate import features


PROPERTY_SETTINGS = settings(max_examples=80, deadline=None)

# Random float bounds and steps are often off the grid by rounding; Optuna says so and adjusts.
pytestmark = pytest.mark.filterwarnings("ignore:The distribution is specified by:UserWarning")


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


@st.composite
def float_distributions(draw: st.DrawFn) -> FloatDistribution:
    kind = draw(st.sampled_from(["plain", "log", "step"]))
    if kind == "log":
        low = draw(st.floats(1e-6, 1e3))
        high = low * draw(st.floats(1.001, 1e6))
        return FloatDistribution(low, high, log=True)
    low = draw(st.floats(-1e4, 1e4))
    if kind == "plain":
        return FloatDistribution(low, low + draw(st.floats(1e-3, 1e4)))
    step = draw(st.sampled_from([1e-3, 0.01, 0.1, 0.25, 0.3, 1.0, 2.5, 7.0]))
    n_steps = draw(st.integers(2, 1000))
    return FloatDistribution(low, low + n_steps * step, step=step)


@st.composite
def int_distributions(draw: st.DrawFn) -> IntDistribution:
    kind = draw(st.sampled_from(["plain", "log", "step"]))
    if kind == "log":
        low = draw(st.integers(1, 1000))
        return IntDistribution(low, low + draw(st.integers(1, 10**6)), log=True)
    low = draw(st.integers(-1000, 1000))
    if kind == "plain":
        return IntDistribution(low, low + draw(st.integers(1, 10**5)))
    step = draw(st.integers(2, 50))
    # A high off the grid is rounded down by Optuna; exercise that too.
    extra = draw(st.integers(0, step - 1))
    return IntDistribution(low, low + draw(st.integers(1, 200)) * step + extra, step=step)


# 1, True and 1.0 are equal in Python (and so are 0, False, 0.0 and -0.0): Optuna cannot tell
# them apart, so `unique=True` (equality based) keeps only one of them.
choice_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=64),
    st.text(max_size=4),
)


@st.composite
def categorical_distributions(draw: st.DrawFn) -> CategoricalDistribution:
    choices = draw(st.lists(choice_values, min_size=1, max_size=6, unique=True))
    return CategoricalDistribution(choices)


distributions_strategy = st.one_of(
    float_distributions(), int_distributions(), categorical_distributions()
)


@st.composite
def search_spaces(draw: st.DrawFn) -> dict[str, BaseDistribution]:
    # Random names, so that the sorted layout differs from the insertion order.
    names = draw(
        st.lists(st.text("abcxyz_0", min_size=1, max_size=4), min_size=1, max_size=6, unique=True)
    )
    space = {name: draw(distributions_strategy) for name in names}
    for dist in space.values():
        # Float rounding can make Optuna shrink a two-step range to a single value; such a
        # parameter never reaches a sampler.
        if not isinstance(dist, CategoricalDistribution):
            assume(not dist.single())
    return space


def _valid_value(draw: st.DrawFn, dist: BaseDistribution) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return draw(st.sampled_from(dist.choices))
    if isinstance(dist, IntDistribution):
        return dist.low + draw(st.integers(0, (dist.high - dist.low) // dist.step)) * dist.step
    assert isinstance(dist, FloatDistribution)
    if dist.step is None:
        return draw(st.floats(dist.low, dist.high))
    n_steps = int(round((dist.high - dist.low) / dist.step))
    return min(dist.high, dist.low + draw(st.integers(0, n_steps)) * dist.step)


@st.composite
def spaces_with_params(draw: st.DrawFn) -> tuple[dict[str, BaseDistribution], dict[str, Any]]:
    space = draw(search_spaces())
    params = {name: _valid_value(draw, dist) for name, dist in space.items()}
    for name, dist in space.items():
        assert dist._contains(dist.to_internal_repr(params[name])), (name, dist, params[name])
    return space, params


def _random_point(draw: st.DrawFn, space: SearchSpace) -> Point:
    numeric = draw(
        hnp.arrays(np.float64, space.normalised.n_numeric, elements=st.floats(0.0, 1.0))
    )
    categorical = np.array(
        [draw(st.integers(0, int(n) - 1)) for n in space.normalised.n_choices], dtype=np.int64
    )
    return Point(numeric, categorical)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def assert_valid_params(space: SearchSpace, params: dict[str, Any]) -> None:
    """Every parameter is present, inside its distribution, on its grid, of a plain type."""
    assert list(params) == list(space.distributions)
    for name, dist in space.distributions.items():
        value = params[name]
        if isinstance(dist, CategoricalDistribution):
            assert any(value is choice for choice in dist.choices), (name, value, dist)
            continue
        if isinstance(dist, IntDistribution):
            assert type(value) is int, (name, value, type(value))
            assert (value - dist.low) % dist.step == 0, (name, value, dist)
        else:
            assert type(value) is float, (name, value, type(value))
            assert math.isfinite(value)
        assert dist._contains(dist.to_internal_repr(value)), (name, value, dist)
    assert space.contains(params)


def assert_valid_point(space: SearchSpace, point: Point) -> None:
    assert point.numeric.shape == (space.normalised.n_numeric,)
    assert point.categorical.shape == (space.normalised.n_categorical,)
    assert np.all(np.isfinite(point.numeric))
    assert np.all((0.0 <= point.numeric) & (point.numeric <= 1.0)), point.numeric
    assert np.issubdtype(point.categorical.dtype, np.integer)
    assert np.all((0 <= point.categorical) & (point.categorical < space.normalised.n_choices))


def assert_same_params(space: SearchSpace, got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(got) == list(space.distributions)
    for name, dist in space.distributions.items():
        if isinstance(dist, FloatDistribution):
            width = math.log(dist.high / dist.low) if dist.log else dist.high - dist.low
            tolerance = 1e-9 * expected[name] if dist.log else 1e-9 * width
            assert got[name] == pytest.approx(expected[name], rel=1e-9, abs=tolerance), name
        else:
            assert got[name] == expected[name], name
            assert type(got[name]) is type(expected[name]), name


# ---------------------------------------------------------------------------------------------
# The space
# ---------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(spaces_with_params())
def test_decode_encode_round_trip(
    case: tuple[dict[str, BaseDistribution], dict[str, Any]],
) -> None:
    distributions, params = case
    space = SearchSpace(distributions)
    point = space.encode(params)
    assert_valid_point(space, point)
    decoded = space.decode(point)
    assert_same_params(space, decoded, params)
    assert_valid_params(space, decoded)


@PROPERTY_SETTINGS
@given(spaces_with_params())
def test_layout_does_not_depend_on_insertion_order(
    case: tuple[dict[str, BaseDistribution], dict[str, Any]],
) -> None:
    distributions, params = case
    forward = SearchSpace(distributions)
    backward = SearchSpace(dict(reversed(list(distributions.items()))))
    assert forward.numeric_names == backward.numeric_names
    assert forward.categorical_names == backward.categorical_names
    a, b = forward.encode(params), backward.encode(params)
    np.testing.assert_array_equal(a.numeric, b.numeric)
    np.testing.assert_array_equal(a.categorical, b.categorical)


@PROPERTY_SETTINGS
@given(st.data())
def test_any_point_of_the_cube_decodes_to_valid_params(data: st.DataObject) -> None:
    space = SearchSpace(data.draw(search_spaces()))
    point = _random_point(data.draw, space)
    params = space.decode(point)
    assert_valid_params(space, params)
    # Decoding is idempotent on the grid: the snapped point decodes to the same parameters.
    snapped = space.snap(point)
    assert_valid_point(space, snapped)
    assert_same_params(space, space.decode(snapped), params)


@PROPERTY_SETTINGS
@given(st.data())
def test_from_unit_cube_gives_valid_choices(data: st.DataObject) -> None:
    space = SearchSpace(data.draw(search_spaces()))
    d = space.normalised.n_numeric + space.normalised.n_categorical
    u = data.draw(hnp.arrays(np.float64, d, elements=st.floats(0.0, 1.0)))
    point = space.normalised.from_unit_cube(u)
    assert_valid_point(space, point)
    np.testing.assert_array_equal(point.numeric, u[: space.normalised.n_numeric])
    # Equal shares of [0, 1) per choice.
    cat_u = u[space.normalised.n_numeric :]
    expected = np.minimum(
        np.floor(cat_u * space.normalised.n_choices), space.normalised.n_choices - 1
    )
    np.testing.assert_array_equal(point.categorical, expected)
    assert_valid_params(space, space.decode(point))


def test_from_unit_cube_covers_every_choice() -> None:
    space = SearchSpace({"c": CategoricalDistribution(["a", None, 3, 2.5, True])})
    u = (np.arange(100) + 0.5) / 100
    chosen = {space.decode(space.normalised.from_unit_cube(np.array([x])))["c"] for x in u}
    assert chosen == {"a", None, 3, 2.5, True}


def test_unsupported_distribution_is_refused() -> None:
    class Custom(BaseDistribution):
        def to_internal_repr(self, value: Any) -> float:
            return float(value)

        def single(self) -> bool:
            return False

        def _contains(self, value: float) -> bool:
            return True

    with pytest.raises(ValueError, match="Unsupported"):
        SearchSpace({"x": FloatDistribution(0, 1), "odd": Custom()})


# ---------------------------------------------------------------------------------------------
# reflect
# ---------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    hnp.arrays(
        np.float64, st.integers(0, 20), elements=st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_reflect_maps_any_finite_real_into_unit_interval(x: np.ndarray) -> None:
    y = reflect(x)
    assert y.shape == x.shape
    assert np.all(np.isfinite(y))
    assert np.all((0.0 <= y) & (y <= 1.0))


@PROPERTY_SETTINGS
@given(hnp.arrays(np.float64, st.integers(0, 20), elements=st.floats(0.0, 1.0)))
def test_reflect_is_identity_inside_unit_interval(x: np.ndarray) -> None:
    np.testing.assert_array_equal(reflect(x), x)


@PROPERTY_SETTINGS
@given(st.floats(-100.0, 100.0))
def test_reflect_folds_at_the_bounds(x: float) -> None:
    # Mirror images at 0 and at 1, period 2.
    assert reflect(np.array([-x]))[0] == pytest.approx(reflect(np.array([x]))[0], abs=1e-12)
    assert reflect(np.array([2.0 - x]))[0] == pytest.approx(reflect(np.array([x]))[0], abs=1e-12)
    assert reflect(np.array([x + 2.0]))[0] == pytest.approx(reflect(np.array([x]))[0], abs=1e-12)


def test_reflect_examples() -> None:
    np.testing.assert_allclose(
        reflect(np.array([-0.25, 1.25, 2.5, -1.5, 3.0, 0.0, 1.0])),
        [0.25, 0.75, 0.5, 0.5, 1.0, 0.0, 1.0],
    )


@PROPERTY_SETTINGS
@given(data=st.data())
def test_snap_numeric_puts_candidates_where_snap_puts_them(data: st.DataObject) -> None:
    space = SearchSpace(data.draw(search_spaces()))
    points = [_random_point(data.draw, space) for _ in range(5)]
    rows = np.array([p.numeric for p in points]).reshape(5, space.normalised.n_numeric)
    snapped = space.normalised.snap_numeric(rows)
    assert snapped.shape == rows.shape
    np.testing.assert_array_equal(space.normalised.snap_numeric(snapped), snapped)  # Idempotent.
    for point, row in zip(points, snapped, strict=True):
        exact = space.snap(point).numeric
        for j, name in enumerate(space.numeric_names):
            dist = space.distributions[name]
            grid = isinstance(dist, IntDistribution) or dist.step is not None
            if not grid or len(space_moves_grid(dist)) > MAX_SNAP_LEVELS:
                assert row[j] == point.numeric[j]  # Continuous: left alone.
                continue
            # Every grid point, encoded one by one as the trial's parameters are.
            alone = SearchSpace({name: dist})
            levels = np.array([alone.encode({name: v}).numeric[0] for v in space_moves_grid(dist)])
            assert np.min(np.abs(levels - row[j])) < 1e-12  # A grid point of the space.
            position = int(np.argmin(np.abs(levels - exact[j])))
            assert abs(levels[position] - exact[j]) < 1e-12  # snap's point, the same grid.
            distance = np.abs(levels - point.numeric[j])
            nearest_two = np.sort(distance)[:2]
            at_tie = len(nearest_two) == 2 and nearest_two[1] - nearest_two[0] < 1e-9
            if dist.log or at_tie:
                # Log grids round in value space and float grids round a tie to even: the same
                # grid point as snap, or the one next to it across the boundary.
                assert abs(int(np.argmin(np.abs(levels - row[j]))) - position) <= 1
            else:
                assert row[j] == pytest.approx(exact[j], abs=1e-12)  # Linear grid: exact.


def space_moves_grid(dist: BaseDistribution) -> list[Any]:
    """The values of an int or step distribution, as Python numbers of its type."""
    assert isinstance(dist, (IntDistribution, FloatDistribution))
    if isinstance(dist, IntDistribution):
        return list(range(dist.low, dist.high + 1, dist.step))
    assert dist.step is not None
    n = int(round((dist.high - dist.low) / dist.step)) + 1
    return [min(dist.high, dist.low + k * dist.step) for k in range(n)]


# ---------------------------------------------------------------------------------------------
# Moves
# ---------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    # The sampler clips the step size to [MIN_STEP_SIZE, MAX_STEP_SIZE] and, when it retries a
    # duplicate proposal, grows it by 1.5 up to 1.0: cover the whole range a move can receive.
    step_size=st.one_of(
        st.floats(MIN_STEP_SIZE, MAX_STEP_SIZE), st.sampled_from([MIN_STEP_SIZE, 0.75, 1.0])
    ),
)
def test_every_move_decodes_to_valid_params(
    data: st.DataObject, seed: int, step_size: float
) -> None:
    space = SearchSpace(data.draw(search_spaces()))
    n_elites = data.draw(st.integers(1, 8))
    elites = []
    for _ in range(n_elites):
        if data.draw(st.booleans()):
            # As the sampler builds them: encoded parameters of finished trials.
            params = {name: _valid_value(data.draw, d) for name, d in space.distributions.items()}
            elites.append(space.encode(params))
        else:
            elites.append(_random_point(data.draw, space))
    if data.draw(st.booleans()):
        elites[-1] = elites[0]  # Duplicate elites happen (e.g. on coarse grids).
    rng = np.random.default_rng(seed)
    # Completed trials for the surrogate move, enough to fit its model (or none).
    n_observed = data.draw(
        st.sampled_from([0, space.normalised.n_numeric + space.normalised.n_categorical + 2, 30])
    )
    observed = [_random_point(data.draw, space) for _ in range(n_observed)]
    observed_x = features(
        np.array([p.numeric for p in observed]).reshape(n_observed, space.normalised.n_numeric),
        np.array([p.categorical for p in observed], dtype=np.int64).reshape(
            n_observed, space.normalised.n_categorical
        ),
        space.normalised.n_choices,
    )
    observed_y = rng.standard_normal(n_observed)
    allowed = available_actions(
        n_elites, space.normalised.n_numeric, space.normalised.n_categorical
    )
    assert allowed.any()
    for index, action in enumerate(ACTIONS):
        expected_allowed = (
            n_elites >= action.min_elites
            and (space.normalised.n_numeric > 0 or not action.needs_numeric)
            and (space.normalised.n_categorical > 0 or not action.needs_categorical)
        )
        assert bool(allowed[index]) == expected_allowed
        if not allowed[index]:
            continue
        # The anchor as the sampler picks it.
        anchor = (
            elites[1 + int(rng.integers(n_elites - 1))]
            if action.anchor == "elite"
            else (elites[0])
        )
        context = MoveContext(
            list(elites),
            step_size,
            space.normalised.n_choices,
            observed_x,
            observed_y,
            space.normalised.snap_numeric,
        )
        before = [(p.numeric.copy(), p.categorical.copy()) for p in elites]
        point = action.move(rng, anchor, context)
        # Moves are pure: neither the anchor nor the elites change.
        for (numeric, categorical), elite in zip(before, elites, strict=True):
            np.testing.assert_array_equal(elite.numeric, numeric)
            np.testing.assert_array_equal(elite.categorical, categorical)
        assert_valid_point(space, point)
        params = space.decode(point)
        assert_valid_params(space, params)
        snapped = space.snap(point)
        assert_valid_point(space, snapped)
        assert_same_params(space, space.decode(snapped), params)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_move_on_the_bounds_stays_inside(action: Any) -> None:
    # Anchors sitting on the corners of the cube, a large step: reflection must keep the move in.
    space = SearchSpace(
        {
            "a": FloatDistribution(1e-5, 1.0, log=True),
            "b": IntDistribution(0, 10, step=5),
            "c": CategoricalDistribution([None, "x", 1.5]),
            "d": FloatDistribution(-1.0, 1.0, step=0.5),
        }
    )
    corners = [
        Point(np.zeros(3), np.zeros(1, dtype=np.int64)),
        Point(np.ones(3), np.array([2])),
        Point(np.array([0.0, 1.0, 0.0]), np.array([1])),
    ]
    rng = np.random.default_rng(0)
    for _ in range(50):
        context = MoveContext(corners, 1.0, space.normalised.n_choices)
        point = action.move(rng, corners[0], context)
        assert_valid_point(space, point)
        assert_valid_params(space, space.decode(point))


# ---------------------------------------------------------------------------------------------
# The surrogate move in mixed spaces
# ---------------------------------------------------------------------------------------------


def test_features_put_two_choices_as_far_apart_as_a_numeric_range() -> None:
    n_choices = np.array([3, 2])
    x = features(np.array([[0.0], [1.0], [0.0]]), np.array([[0, 1], [0, 1], [2, 1]]), n_choices)
    assert x.shape == (3, 1 + 3 + 2)
    np.testing.assert_array_equal(feature_groups(1, n_choices), [0, 1, 1, 1, 2, 2])
    assert np.linalg.norm(x[0] - x[1]) == pytest.approx(1.0)  # numeric ends
    assert np.linalg.norm(x[0] - x[2]) == pytest.approx(1.0)  # another choice


def test_surrogate_move_finds_the_good_choice_in_a_categorical_space() -> None:
    # Two categorical parameters; choice 2 of the first is what matters. The good choice has
    # been seen only with other values of the second parameter: the model must generalise.
    n_choices = np.array([4, 4])
    rng = np.random.default_rng(0)
    seen = [(a, b) for a in range(4) for b in range(4) if not (a == 2 and b in (0, 1))]
    seen = [seen[i] for i in rng.permutation(len(seen))[:10]] + [(2, 2), (2, 3)]
    categorical = np.array(seen, dtype=np.int64)
    y = np.where(categorical[:, 0] == 2, 0.0, 1.0) + 0.1 * categorical[:, 1]
    x = features(np.zeros((len(y), 0)), categorical, n_choices)
    worst = Point(np.zeros(0), categorical[int(np.argmax(y))])
    elites = [worst]  # An anchor far from the good choice: only the model can find it.
    picks = []
    for seed in range(20):
        context = MoveContext(elites, 0.1, n_choices, x, y)
        point = ACTIONS[[a.name for a in ACTIONS].index("surrogate")].move(
            np.random.default_rng(seed), worst, context
        )
        picks.append(tuple(point.categorical.tolist()))
    assert sum(a == 2 for a, _ in picks) >= 16, picks
    assert not any(pick in seen for pick in picks)  # The model knows what it has seen.


def test_grouped_length_scales_move_together() -> None:
    rng = np.random.default_rng(1)
    categorical = rng.integers(3, size=(25, 1))
    numeric = rng.random((25, 2))
    y = numeric[:, 0] + (categorical[:, 0] == 1)
    n_choices = np.array([3])
    model = RankGP(features(numeric, categorical, n_choices), y, feature_groups(2, n_choices))
    scales = model.length_scales
    assert scales[2] == scales[3] == scales[4]
    assert scales[0] < scales[1]  # The numeric parameter that matters is the relevant one.


_LEVELS = np.linspace(0.0, 1.0, 7)  # An int parameter with 7 values.


def test_grid_margin_moves_a_shared_grid_point_to_a_neighbour_now_and_then() -> None:
    rng = np.random.default_rng(0)
    anchor = Point(np.array([0.3, _LEVELS[0], _LEVELS[3]]), np.zeros(0, dtype=np.int64))
    grids = [(1, _LEVELS), (2, _LEVELS)]
    moved = np.zeros(3)
    n_draws = 20_000
    for _ in range(n_draws):
        point = grid_margin(rng, anchor, anchor, grids)
        assert point.numeric[0] == anchor.numeric[0]  # A continuous coordinate never moves.
        # Only to a neighbouring grid point; from the lowest one, up.
        assert point.numeric[1] in (_LEVELS[0], _LEVELS[1])
        assert point.numeric[2] in (_LEVELS[2], _LEVELS[3], _LEVELS[4])
        moved += point.numeric != anchor.numeric
    expected = 1.0 / (3 * (4.0 + 3.0 * math.log(3)))
    assert moved[1:] / n_draws == pytest.approx([expected, expected], rel=0.1)


def test_grid_margin_leaves_a_coordinate_the_move_changed() -> None:
    rng = np.random.default_rng(1)
    anchor = Point(np.array([_LEVELS[3], _LEVELS[3]]), np.zeros(0, dtype=np.int64))
    point = Point(np.array([_LEVELS[5], _LEVELS[3]]), np.zeros(0, dtype=np.int64))
    # The first coordinate was moved off the anchor's grid point, the second is continuous.
    results = [grid_margin(rng, anchor, point, [(0, _LEVELS)]) for _ in range(2_000)]
    assert all(np.array_equal(result.numeric, point.numeric) for result in results)


def test_grid_margin_leaves_a_space_without_grids_alone() -> None:
    # A categorical-only space has no numeric coordinates: no margin, and no warning (the
    # margin's probability divided by log(0) here and warned on every proposal).
    point = Point(np.zeros(0), np.array([1, 0], dtype=np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grid_margin(np.random.default_rng(2), point, point, []) is point
