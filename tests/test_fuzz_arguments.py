"""Every constructor argument of RLSampler and RLPruner, fuzzed with values of any type: the
constructor either refuses the value at once with a ValueError or TypeError that names the
argument, or accepts it and a short study then runs without error. Never a later crash.

The arguments are read from the signatures, so a new argument is fuzzed without editing this
file.
"""

from __future__ import annotations

import inspect
from typing import Any

from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import FORMAT_VERSION


optuna.logging.set_verbosity(optuna.logging.ERROR)

SAMPLER_ARGS = list(inspect.signature(RLSampler).parameters)
PRUNER_ARGS = list(inspect.signature(RLPruner).parameters)
N_TRIALS = 5
N_STEPS = 8

FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _numpy_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(np.int64),
        st.integers(0, 255).map(np.uint8),
        st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
        st.floats(width=32, allow_nan=True, allow_infinity=True).map(np.float32),
        st.booleans().map(np.bool_),
    )


def _arrays() -> st.SearchStrategy[Any]:
    """Arrays of random shapes, and arrays of the sampler's Q-table shape (whatever it is) filled
    with one value, extreme ones included."""
    shape = RLSampler().agent_for(optuna.create_study()).q.shape
    fill = st.floats(allow_nan=True, allow_infinity=True)
    return st.one_of(
        st.tuples(st.integers(0, 5), st.integers(0, 5)).map(np.zeros),
        fill.map(lambda v: np.full(shape, v)),
        fill.map(lambda v: np.full(shape, v).tolist()),
        st.just(np.zeros(shape, dtype=np.int64)),
        st.just(np.zeros((shape[0], shape[1], 1))),
    )


def any_value() -> st.SearchStrategy[Any]:
    """Values of any type, biased towards the plausible ranges of the arguments."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-3, 300),
        st.integers(2**31, 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(0.0, 1.0),
        st.sampled_from([0.0, 1.0, 5e-324, 1.0 - 1e-16, -0.0]),
        st.text(max_size=5),
        st.lists(st.integers(-3, 3), max_size=3),
        st.lists(st.floats(), max_size=3),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        _numpy_scalars(),
        _arrays(),
        st.sampled_from(
            [
                optuna.samplers.RandomSampler(seed=0),
                optuna.samplers.TPESampler(seed=0),
                optuna.samplers.RandomSampler,  # the class, not an instance
                optuna.pruners.MedianPruner(),
                object(),
            ]
        ),
    )


def plausible_value(cls: type[Any], name: str, near_share: float = 0.5) -> st.SearchStrategy[Any]:
    """Values near the argument's valid range (from the type of its default) with probability
    ``near_share``, values of any type otherwise."""
    default = inspect.signature(cls).parameters[name].default
    if isinstance(default, bool):
        near: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(default, int):
        near = st.one_of(st.integers(-2, 300), st.integers(2**31, 2**70))
    elif isinstance(default, float):
        near = st.one_of(
            st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, 5e-324, 1.0 - 1e-16, 1e-300])
        )
    else:
        near = st.one_of(st.none(), st.integers(-1, 2**32 + 1), _arrays())
    # (Not ``st.one_of(near, any_value())``: nested one_of's are flattened into equal branches.)
    return st.floats(0.0, 1.0).flatmap(lambda u: near if u < near_share else any_value())


def _assert_names_argument(exc: Exception, names: list[str]) -> None:
    message = str(exc)
    assert any(name in message for name in names), (type(exc).__name__, message, names)


# ---------------------------------------------------------------------------------------------
# RLSampler
# ---------------------------------------------------------------------------------------------


def _history_study(**kwargs: Any) -> optuna.Study:
    """A study with 12 finished trials of another sampler, so the agent acts from the first new
    trial whatever ``n_startup_trials`` is."""
    study = optuna.create_study(**kwargs)
    rng = np.random.default_rng(0)
    distributions = {
        "x": FloatDistribution(-5.0, 5.0),
        "lr": FloatDistribution(1e-4, 1.0, log=True),
        "n": IntDistribution(1, 8),
        "c": CategoricalDistribution(["a", "b", "c"]),
    }
    for i in range(12):
        params = {
            "x": float(rng.uniform(-5, 5)),
            "lr": float(10 ** rng.uniform(-4, 0)),
            "n": int(rng.integers(1, 9)),
            "c": ["a", "b", "c"][i % 3],
        }
        curve = {step: float(rng.normal(10.0 - step)) for step in range(N_STEPS)}
        state = TrialState.PRUNED if i % 4 == 3 else TrialState.COMPLETE
        study.add_trial(
            optuna.create_trial(
                state=state,
                params=params,
                distributions=distributions,
                value=curve[N_STEPS - 1] if state == TrialState.COMPLETE else None,
                intermediate_values=curve if state == TrialState.COMPLETE else {0: curve[0]},
            )
        )
    return study


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 1, 8)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    base = x**2 + (np.log10(lr) + 2) ** 2 + n + (c == "b")
    value = base
    for step in range(N_STEPS):
        value = base + 10.0 - step
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return float(value)


def run_sampler_study(sampler: RLSampler) -> None:
    study = _history_study(sampler=sampler, pruner=optuna.pruners.NopPruner())
    study.optimize(objective, n_trials=N_TRIALS)
    new = study.trials[-N_TRIALS:]
    assert all(t.state == TrialState.COMPLETE for t in new)
    assert all(t.system_attrs[DECISION_KEY]["v"] == FORMAT_VERSION for t in new)
    assert np.all(np.isfinite(sampler.agent_for(study).q))


@FUZZ_SETTINGS
@given(data=st.data(), name=st.sampled_from(SAMPLER_ARGS))
def test_sampler_argument(data: st.DataObject, name: str) -> None:
    value = data.draw(plausible_value(RLSampler, name), label=name)
    try:
        sampler = RLSampler(**{name: value})
    except (ValueError, TypeError) as exc:
        event(f"refused: {type(exc).__name__}")
        _assert_names_argument(exc, [name])
        return
    event("accepted")
    run_sampler_study(sampler)


@FUZZ_SETTINGS
@given(data=st.data())
def test_sampler_all_arguments_at_once(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(SAMPLER_ARGS), unique=True, min_size=2))
    kwargs: dict[str, Any] = {
        name: data.draw(plausible_value(RLSampler, name, 0.9), label=name) for name in names
    }
    try:
        sampler = RLSampler(**kwargs)
    except (ValueError, TypeError) as exc:
        event(f"refused: {type(exc).__name__}")
        _assert_names_argument(exc, names)
        return
    event("accepted")
    run_sampler_study(sampler)


def test_sampler_numpy_scalars_are_refused_clearly_or_accepted() -> None:
    """NumPy scalars are what a config grid built with ``np.arange``/``np.linspace`` holds."""
    cases: list[tuple[str, Any]] = [
        ("seed", np.int64(3)),
        ("n_startup_trials", np.int64(3)),
        ("epsilon_decay_trials", np.int32(50)),
        ("learning_rate", np.float32(0.25)),
        ("learning_rate", np.float64(0.25)),
        ("warn_independent_sampling", np.bool_(False)),
    ]
    for name, value in cases:
        try:
            sampler = RLSampler(**{name: value})
        except TypeError as exc:
            assert name in str(exc) and type(value).__name__ in str(exc), str(exc)
            continue
        run_sampler_study(sampler)


# ---------------------------------------------------------------------------------------------
# RLPruner
# ---------------------------------------------------------------------------------------------


def run_pruner_study(pruner: RLPruner) -> None:
    study = _history_study(pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=N_TRIALS)
    new = study.trials[-N_TRIALS:]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in new)
    assert all(len(t.intermediate_values) >= 1 for t in new)


@FUZZ_SETTINGS
@given(data=st.data(), name=st.sampled_from(PRUNER_ARGS))
def test_pruner_argument(data: st.DataObject, name: str) -> None:
    value = data.draw(plausible_value(RLPruner, name), label=name)
    try:
        pruner = RLPruner(**{name: value})
    except (ValueError, TypeError) as exc:
        event(f"refused: {type(exc).__name__}")
        _assert_names_argument(exc, [name])
        return
    event("accepted")
    run_pruner_study(pruner)


@FUZZ_SETTINGS
@given(data=st.data())
def test_pruner_all_arguments_at_once(data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(PRUNER_ARGS), unique=True, min_size=2))
    kwargs: dict[str, Any] = {
        name: data.draw(plausible_value(RLPruner, name, 0.9), label=name) for name in names
    }
    try:
        pruner = RLPruner(**kwargs)
    except (ValueError, TypeError) as exc:
        event(f"refused: {type(exc).__name__}")
        _assert_names_argument(exc, names)
        return
    event("accepted")
    run_pruner_study(pruner)


def test_pruner_numpy_scalars_are_refused_clearly_or_accepted() -> None:
    cases: list[tuple[str, Any]] = [
        ("n_startup_trials", np.int64(3)),
        ("n_warmup_steps", np.int64(2)),
        ("interval_steps", np.int16(2)),
        ("top_quantile", np.float32(0.2)),
        ("top_quantile", np.float64(0.2)),
    ]
    for name, value in cases:
        try:
            pruner = RLPruner(**{name: value})
        except TypeError as exc:
            assert name in str(exc) and type(value).__name__ in str(exc), str(exc)
            continue
        run_pruner_study(pruner)
