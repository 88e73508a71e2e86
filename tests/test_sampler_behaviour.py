"""Behaviour of RLSampler driven through Optuna's public API (optimize, ask and tell)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import logging
import math
import random
import re
import time
from typing import Any

from _learning import assert_learned_from_the_study
import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import RandomSampler
from optuna.samplers import TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import Trial
from optuna.trial import TrialState
import pytest

from optuna_rl import RLSampler
from optuna_rl._attrs import FORMAT_VERSION
from optuna_rl._attrs import USER_SAMPLER
from optuna_rl._attrs import sampler_summary
from optuna_rl._trials import parse_decision
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.prior import load_prior
from optuna_rl.sampling.state import N_STATES


DECISION_KEY = "rl:decision"
DECISION_FIELDS = {"v", "s", "a", "e", "k", "n", "t"}
ACTION_NAMES = {action.name for action in ACTIONS}
INCUMBENT_ACTIONS = {action.name for action in ACTIONS if action.anchor == "incumbent"}
WARNING_TEXT = "is sampled independently"

# Choices of several types; ``True`` is left out on purpose because Optuna cannot tell it from
# ``1`` (see the NOTE in ``CategoricalDistribution.to_internal_repr``).
MIXED_CHOICES: tuple[Any, ...] = (None, 1, "a", 2.5, False)


@pytest.fixture(autouse=True)
def _quiet_optuna() -> Iterator[None]:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(verbosity)


@pytest.fixture
def optuna_caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` that sees Optuna's records (Optuna does not propagate them by default)."""
    optuna.logging.enable_propagation()
    caplog.set_level(logging.WARNING)
    try:
        yield caplog
    finally:
        optuna.logging.disable_propagation()


def _decision(trial: FrozenTrial) -> dict[str, Any] | None:
    return trial.system_attrs.get(DECISION_KEY)


def _move(trial: FrozenTrial) -> str | None:
    """The agent's move recorded on ``trial`` (``"startup"`` for the design), from the decision;
    ``None`` without one."""
    decision = _decision(trial)
    if decision is None:
        return None
    return "startup" if decision["a"] < 0 else ACTIONS[decision["a"]].name


def _anchor(trial: FrozenTrial) -> int | None:
    decision = _decision(trial)
    return None if decision is None or decision["n"] < 0 else decision["n"]


def _who(trial: FrozenTrial) -> str:
    """Who chose the trial's parameters, as its ``rl_sampler`` line says (its first word)."""
    return trial.user_attrs[USER_SAMPLER].split()[0]


def _assert_valid_decision(trial: FrozenTrial, *, startup: bool | None = None) -> None:
    decision = _decision(trial)
    assert decision is not None, f"trial {trial.number} has no decision"
    assert set(decision) == DECISION_FIELDS
    assert decision["v"] == FORMAT_VERSION
    assert decision["t"] == trial.number
    assert math.isfinite(decision["k"]) and decision["k"] > 0.0
    assert decision["e"] in (0, 1)
    # One readable line, and nothing else, in the user attrs: the decision in words.
    parsed = parse_decision(trial)
    assert parsed is not None
    assert trial.user_attrs == {USER_SAMPLER: sampler_summary(parsed)}
    if decision["a"] < 0:
        assert decision["s"] == -1 and decision["n"] == -1
        assert trial.user_attrs[USER_SAMPLER] == "startup design"
    else:
        assert 0 <= decision["s"] < N_STATES
        assert 0 <= decision["a"] < len(ACTIONS)
        summary = trial.user_attrs[USER_SAMPLER]
        assert _who(trial) == ACTIONS[decision["a"]].name
        assert ("(explored)" in summary) == bool(decision["e"])
        if decision["n"] >= 0:
            assert f" from trial {decision['n']} " in summary
            assert decision["n"] != trial.number
        else:
            assert " from trial " not in summary
    if startup is not None:
        assert (decision["a"] < 0) == startup, (trial.number, decision)


def _same_choice(value: Any, choices: tuple[Any, ...]) -> bool:
    return any(type(value) is type(choice) and value == choice for choice in choices)


def _on_grid(value: float, low: float, step: float) -> bool:
    k = (value - low) / step
    return abs(k - round(k)) < 1e-8


# ---------------------------------------------------------------------------------------------
# Every distribution kind.
# ---------------------------------------------------------------------------------------------


def test_every_distribution_kind() -> None:
    returned: dict[int, dict[str, Any]] = {}

    def objective(trial: Trial) -> float:
        params = {
            "f": trial.suggest_float("f", -3.0, 2.0),
            "f_log": trial.suggest_float("f_log", 1e-5, 10.0, log=True),
            "f_step": trial.suggest_float("f_step", -1.0, 1.0, step=0.25),
            "i": trial.suggest_int("i", -7, 9),
            "i_log": trial.suggest_int("i_log", 1, 1000, log=True),
            "i_step": trial.suggest_int("i_step", 0, 30, step=3),
            "c": trial.suggest_categorical("c", MIXED_CHOICES),
        }
        returned[trial.number] = params
        penalty = 0.0 if params["c"] == "a" else 1.0
        return (
            params["f"] ** 2
            + math.log10(params["f_log"]) ** 2
            + params["f_step"] ** 2
            + (params["i"] - 2) ** 2
            + math.log10(params["i_log"])
            + params["i_step"] / 10
            + penalty
        )

    sampler = RLSampler(seed=0, n_startup_trials=5)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=30)

    trials = study.trials
    assert len(trials) == 30
    assert all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:
        p = t.params
        assert p == returned[t.number]
        for source in (p, returned[t.number]):
            for name in ("f", "f_log", "f_step"):
                assert type(source[name]) is float, (name, type(source[name]))
            for name in ("i", "i_log", "i_step"):
                assert type(source[name]) is int, (name, type(source[name]))
            assert _same_choice(source["c"], MIXED_CHOICES), source["c"]
        assert -3.0 <= p["f"] <= 2.0
        assert 1e-5 <= p["f_log"] <= 10.0
        assert -1.0 <= p["f_step"] <= 1.0 and _on_grid(p["f_step"], -1.0, 0.25)
        assert -7 <= p["i"] <= 9
        assert 1 <= p["i_log"] <= 1000
        assert 0 <= p["i_step"] <= 30 and p["i_step"] % 3 == 0

    # Trial 0 has no relative search space yet; all later trials carry a decision, start-up
    # decisions for trials 1-4 and agent decisions once five trials are complete.
    assert _decision(trials[0]) is None
    assert trials[0].user_attrs == {
        USER_SAMPLER: "independent sampler (RandomSampler): no relative search space yet"
    }
    for t in trials[1:5]:
        _assert_valid_decision(t, startup=True)
    for t in trials[5:]:
        _assert_valid_decision(t, startup=False)

    # Incumbent-anchored moves start from the best trial so far (sequential study).
    for t in trials[5:]:
        if _move(t) in INCUMBENT_ACTIONS:
            best_before = min(trials[: t.number], key=lambda u: u.value)
            assert _anchor(t) == best_before.number

    # The agent learned from the 25 agent decisions.
    agent = sampler.agent_for(study)
    assert agent.q.shape == (N_STATES, len(ACTIONS))
    assert agent.n_updates == 25
    assert np.all(np.isfinite(agent.q))
    assert_learned_from_the_study(agent, load_prior())
    # agent_for returns a copy.
    agent.q[:] = 123.0
    assert not np.any(sampler.agent_for(study).q == 123.0)

    # Start-up design points are distinct.
    startup_points = {tuple(sorted(map(repr, t.params.values()))) for t in trials[:5]}
    assert len(startup_points) == 5


def test_surrogate_move_serves_an_all_categorical_space() -> None:
    ops = ["conv3", "conv1", "pool", "skip", "none"]

    def objective(trial: Trial) -> float:
        chosen = [trial.suggest_categorical(f"op{i}", ops) for i in range(4)]
        return float(sum(ops.index(op) for op in chosen))

    sampler = RLSampler(seed=1, epsilon_start=0.0, epsilon_end=0.0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=60)
    actions = [_move(t) for t in study.trials]
    assert "surrogate" in actions
    assert study.best_value == 0.0  # 625 configurations; 60 random trials reach 1.8 on average.
    assert all(t.params[f"op{i}"] in ops for t in study.trials for i in range(4))


@pytest.mark.parametrize("seed", [0, 3])
def test_agent_does_not_repeat_a_completed_configuration(seed: int) -> None:
    # 100 configurations on grids; the optimum is found early, after which moves built from
    # the elites keep landing on evaluated points unless the sampler steers away.
    def objective(trial: Trial) -> float:
        a = trial.suggest_int("a", 0, 4)
        b = trial.suggest_categorical("b", ["x", "y", "z", "w"])
        c = trial.suggest_float("c", 0.0, 1.0, step=0.25)
        return (a - 2) ** 2 + (b != "z") + abs(c - 0.5)

    study = optuna.create_study(sampler=RLSampler(seed=seed))
    study.optimize(objective, n_trials=50)
    assert study.best_value == 0.0
    seen: set[tuple[Any, ...]] = set()
    for t in study.trials:
        key = tuple(sorted(t.params.items()))
        if _move(t) not in (None, "startup"):
            assert key not in seen, (t.number, _move(t))
        seen.add(key)


def test_categorical_with_true_and_one_among_choices() -> None:
    # Optuna stores ``True`` as the index of ``1`` (documented limitation), so only membership
    # by equality can be asserted; the sampler must cope with such choices.
    choices = (None, 1, "a", 2.5, True)
    returned = []

    def objective(trial: Trial) -> float:
        c = trial.suggest_categorical("c", choices)
        x = trial.suggest_float("x", 0.0, 1.0)
        returned.append(c)
        return x + (0.0 if c is None else 1.0)

    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=5))
    study.optimize(objective, n_trials=30)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(value in choices for value in returned)
    assert {repr(t.params["c"]) for t in study.trials} >= {"None", "'a'", "2.5"}
    for t in study.trials[5:]:
        _assert_valid_decision(t, startup=False)


def test_single_choice_and_fixed_range_parameters_pass_through() -> None:
    def objective(trial: Trial) -> float:
        a = trial.suggest_float("a", 1.5, 1.5)
        b = trial.suggest_int("b", 4, 4)
        c = trial.suggest_categorical("c", ["only"])
        x = trial.suggest_float("x", -1.0, 1.0)
        assert (a, b, c) == (1.5, 4, "only")
        return x**2

    study = optuna.create_study(sampler=RLSampler(seed=1, n_startup_trials=3))
    study.optimize(objective, n_trials=15)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    for t in study.trials[3:]:
        _assert_valid_decision(t, startup=False)


# ---------------------------------------------------------------------------------------------
# Conditional and dynamic search spaces, and the independent-sampling warning.
# ---------------------------------------------------------------------------------------------


def test_conditional_search_space() -> None:
    def objective(trial: Trial) -> float:
        kind = trial.suggest_categorical("kind", ["svm", "forest"])
        x = trial.suggest_float("x", -5.0, 5.0)
        if kind == "svm":
            c = trial.suggest_float("c", 1e-3, 1e3, log=True)
            return x**2 + math.log10(c) ** 2
        depth = trial.suggest_int("depth", 1, 10)
        return x**2 + depth

    study = optuna.create_study(
        sampler=RLSampler(seed=2, n_startup_trials=5, warn_independent_sampling=False)
    )
    study.optimize(objective, n_trials=40)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    kinds = set()
    for t in study.trials:
        kinds.add(t.params["kind"])
        expected = {"kind", "x", "c"} if t.params["kind"] == "svm" else {"kind", "x", "depth"}
        assert set(t.params) == expected
        assert -5.0 <= t.params["x"] <= 5.0
        if "c" in t.params:
            assert 1e-3 <= t.params["c"] <= 1e3
        else:
            assert 1 <= t.params["depth"] <= 10
    assert kinds == {"svm", "forest"}
    for t in study.trials[5:]:
        _assert_valid_decision(t, startup=False)


def test_dynamic_search_space() -> None:
    def objective(trial: Trial) -> float:
        high = 10 if trial.number < 15 else 20
        x = trial.suggest_int("x", 0, high)
        y = trial.suggest_float("y", -1.0, 1.0)
        if trial.number >= 25:
            z = trial.suggest_float("z", 0.0, 1.0)
            return (x - 5) ** 2 + y**2 + z
        return (x - 5) ** 2 + y**2

    study = optuna.create_study(
        sampler=RLSampler(seed=3, n_startup_trials=5, warn_independent_sampling=False)
    )
    study.optimize(objective, n_trials=35)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        for name, value in t.params.items():
            assert t.distributions[name]._contains(t.distributions[name].to_internal_repr(value))
        assert ("z" in t.params) == (t.number >= 25)
    for t in study.trials[5:]:
        # `y` stays in the intersection space, so the agent still decides every trial.
        _assert_valid_decision(t, startup=False)


def _warned_trials(caplog: pytest.LogCaptureFixture, param: str) -> set[int]:
    numbers = set()
    for record in caplog.records:
        message = record.getMessage()
        if WARNING_TEXT in message and f"`{param}`" in message:
            match = re.search(r"Trial#(\d+)", message)
            assert match is not None, message
            numbers.add(int(match.group(1)))
    return numbers


def _even_only_objective(trial: Trial) -> float:
    x = trial.suggest_float("x", -1.0, 1.0)
    if trial.number % 2 == 0:
        y = trial.suggest_float("y", -1.0, 1.0)
        return x**2 + y**2
    return x**2


def test_independent_sampling_warning_after_startup_only(
    optuna_caplog: pytest.LogCaptureFixture,
) -> None:
    study = optuna.create_study(sampler=RLSampler(seed=4, n_startup_trials=5))
    study.optimize(_even_only_objective, n_trials=14)
    # `y` leaves the intersection space when trial 1 (without it) finishes. Sequentially, trial
    # n starts with n completed trials, so start-up lasts up to trial 4: trials 2 and 4 sample
    # `y` independently without a warning, trials 6, 8, ... with one.
    assert _warned_trials(optuna_caplog, "y") == {6, 8, 10, 12}
    assert _warned_trials(optuna_caplog, "x") == set()
    warning = next(r for r in optuna_caplog.records if WARNING_TEXT in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert "RandomSampler" in warning.getMessage()
    assert "RLSampler" in warning.getMessage()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_warning_follows_optunas_verbosity() -> None:
    # optuna-rl logs under Optuna's logger, so Optuna's verbosity silences its warning as it
    # silences Optuna's own samplers' (it used to print whatever the verbosity).
    records = _Records()
    logging.getLogger("optuna").addHandler(records)
    verbosity = optuna.logging.get_verbosity()
    try:
        for level, expected in ((optuna.logging.ERROR, False), (optuna.logging.WARNING, True)):
            records.messages.clear()
            optuna.logging.set_verbosity(level)
            study = optuna.create_study(sampler=RLSampler(seed=4, n_startup_trials=5))
            study.optimize(_even_only_objective, n_trials=8)
            assert any(WARNING_TEXT in m for m in records.messages) == expected, level
    finally:
        optuna.logging.set_verbosity(verbosity)
        logging.getLogger("optuna").removeHandler(records)


def test_no_independent_sampling_warning_for_new_parameters(
    optuna_caplog: pytest.LogCaptureFixture,
) -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        # A parameter that no finished trial had yet is not a fallback: no warning.
        trial.suggest_float(f"new_{trial.number}", 0.0, 1.0)
        return x**2

    study = optuna.create_study(sampler=RLSampler(seed=5, n_startup_trials=2))
    study.optimize(objective, n_trials=8)
    assert not [r for r in optuna_caplog.records if WARNING_TEXT in r.getMessage()]


def test_independent_sampling_warning_can_be_disabled(
    optuna_caplog: pytest.LogCaptureFixture,
) -> None:
    sampler = RLSampler(seed=4, n_startup_trials=5, warn_independent_sampling=False)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_even_only_objective, n_trials=14)
    assert not [r for r in optuna_caplog.records if WARNING_TEXT in r.getMessage()]


# ---------------------------------------------------------------------------------------------
# Pruned, failed, NaN and infinite results.
# ---------------------------------------------------------------------------------------------


def test_pruned_failed_nan_and_infinite_results() -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -2.0, 2.0)
        y = trial.suggest_int("y", -3, 3)
        kind = trial.number % 7
        if kind == 1:
            for step in range(3):
                trial.report(x**2 + step, step)
            raise optuna.TrialPruned()
        if kind == 2:
            raise optuna.TrialPruned()
        if kind == 3:
            raise ValueError("objective failed")
        if kind == 4:
            return float("nan")
        if kind == 5:
            return float("inf")
        if kind == 6 and trial.number > 20:
            return float("-inf")
        return x**2 + y**2

    sampler = RLSampler(seed=6, n_startup_trials=3)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=49, catch=(ValueError,))

    trials = study.trials
    assert len(trials) == 49
    states = [t.state for t in trials]
    assert states.count(TrialState.PRUNED) == 14
    assert states.count(TrialState.FAIL) == 14  # ValueError and NaN
    assert states.count(TrialState.COMPLETE) == 21
    assert study.best_value == float("-inf")
    for t in trials:
        assert -2.0 <= t.params["x"] <= 2.0 and -3 <= t.params["y"] <= 3
    assert _decision(trials[0]) is None
    for t in trials[1:]:
        _assert_valid_decision(t)
    # Later trials are the agent's, whatever happened before them.
    for t in trials[-14:]:
        _assert_valid_decision(t, startup=False)
    agent = sampler.agent_for(study)
    assert np.all(np.isfinite(agent.q))
    assert agent.n_updates > 0


def test_every_trial_fails() -> None:
    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        raise ValueError("always")

    sampler = RLSampler(seed=7, n_startup_trials=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=6, catch=(ValueError,))
    assert all(t.state == TrialState.FAIL for t in study.trials)
    # Failed trials have no result, so there is no elite and no relative search space.
    assert all(0.0 <= t.params["x"] <= 1.0 for t in study.trials)
    assert np.all(np.isfinite(sampler.agent_for(study).q))


def test_every_trial_pruned_without_values() -> None:
    def objective(trial: Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_categorical("c", ["p", "q"])
        raise optuna.TrialPruned()

    sampler = RLSampler(seed=8, n_startup_trials=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=12)
    assert all(t.state == TrialState.PRUNED for t in study.trials)
    for t in study.trials[1:]:
        _assert_valid_decision(t)
    assert np.all(np.isfinite(sampler.agent_for(study).q))


# ---------------------------------------------------------------------------------------------
# Directions.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_direction(direction: str) -> None:
    sign = 1.0 if direction == "minimize" else -1.0

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        y = trial.suggest_float("y", -5.0, 5.0)
        return sign * ((x - 1.0) ** 2 + (y + 2.0) ** 2)

    study = optuna.create_study(direction=direction, sampler=RLSampler(seed=9))
    study.optimize(objective, n_trials=60)
    values = [t.value for t in study.trials]
    best = min(values) if direction == "minimize" else max(values)
    assert study.best_value == best
    # Near the optimum, where random search gets with 60 trials in about 0.2% of runs.
    assert abs(study.best_value) < 1e-3
    # Maximising -f is minimising f: the sampler takes exactly the same steps.
    mirror = optuna.create_study(direction="minimize", sampler=RLSampler(seed=9))
    mirror.optimize(lambda trial: sign * objective(trial), n_trials=60)
    assert [t.params for t in mirror.trials] == [t.params for t in study.trials]
    # Incumbent-anchored moves start from the best trial in the study's direction.
    checked = 0
    for t in study.trials[10:]:
        if _move(t) in INCUMBENT_ACTIONS:
            earlier = study.trials[: t.number]
            pick = min if direction == "minimize" else max
            assert _anchor(t) == pick(earlier, key=lambda u: u.value).number
            checked += 1
    assert checked > 0


# ---------------------------------------------------------------------------------------------
# Pruners.
# ---------------------------------------------------------------------------------------------


def _reporting_objective(trial: Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    value = 0.0
    for step in range(9):
        value = x**2 + abs(math.log10(lr) + 2.0) + 1.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def test_hyperband_pruner() -> None:
    sampler = RLSampler(seed=11, n_startup_trials=5)
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(_reporting_objective, n_trials=30)
    trials = study.trials
    assert len(trials) == 30
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    assert any(t.state == TrialState.PRUNED for t in trials)
    assert any(t.state == TrialState.COMPLETE for t in trials)
    assert sum(_decision(t) is not None for t in trials) >= 20
    for t in trials:
        if _decision(t) is not None:
            _assert_valid_decision(t)
    assert any(_decision(t)["a"] >= 0 for t in trials if _decision(t) is not None)
    assert np.all(np.isfinite(sampler.agent_for(study).q))


def test_median_pruner() -> None:
    sampler = RLSampler(seed=12, n_startup_trials=4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    study.optimize(_reporting_objective, n_trials=25)
    assert any(t.state == TrialState.PRUNED for t in study.trials)
    # Start-up counts results, completed and pruned trials alike (as TPE counts them): a pruned
    # start-up trial is a result, so pruning cannot keep the agent from starting.
    n_results = 0
    for t in study.trials:
        if t.number > 0:
            _assert_valid_decision(t, startup=n_results < 4)
        n_results += t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert n_results == 25


# ---------------------------------------------------------------------------------------------
# Enqueued trials and other samplers' history.
# ---------------------------------------------------------------------------------------------


def _bowl(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 3.0) ** 2 + (y + 1.0) ** 2


def test_enqueued_trial_is_history() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=13, n_startup_trials=3))
    study.optimize(_bowl, n_trials=8)
    study.enqueue_trial({"x": 3.0, "y": -1.0})
    study.optimize(_bowl, n_trials=20)

    enqueued = study.trials[8]
    assert enqueued.params == {"x": 3.0, "y": -1.0}
    assert enqueued.value == 0.0
    # A fully enqueued trial was not sampled, so it carries no decision, only who chose ...
    assert DECISION_KEY not in enqueued.system_attrs
    assert enqueued.user_attrs == {USER_SAMPLER: "enqueued"}
    # ... but it is the best trial, and the agent's incumbent moves start from it.
    assert study.best_trial.number == 8
    later = study.trials[9:]
    for t in later:
        _assert_valid_decision(t, startup=False)
        if _move(t) in INCUMBENT_ACTIONS:
            assert _anchor(t) == 8
    assert any(_anchor(t) == 8 for t in later)


def test_partially_enqueued_trial_keeps_fixed_param() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=14, n_startup_trials=3))
    study.optimize(_bowl, n_trials=6)
    study.enqueue_trial({"x": -4.5})
    study.optimize(_bowl, n_trials=6)
    partial = study.trials[6]
    assert partial.params["x"] == -4.5
    assert -5.0 <= partial.params["y"] <= 5.0
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    # The fixed value overrode part of the move, so the trial is history, not experience.
    assert DECISION_KEY not in partial.system_attrs
    assert all(DECISION_KEY in t.system_attrs for t in study.trials[7:])


def test_continues_a_study_another_sampler_began() -> None:
    study = optuna.create_study(sampler=RandomSampler(seed=0))
    study.optimize(_bowl, n_trials=10)
    sampler = RLSampler(seed=15, n_startup_trials=10)
    study.sampler = sampler
    study.optimize(_bowl, n_trials=10)
    for t in study.trials[:10]:
        assert DECISION_KEY not in t.system_attrs
    for t in study.trials[10:]:
        _assert_valid_decision(t, startup=False)
    # The other sampler's trials are history only; the ten agent decisions are learned from.
    assert sampler.agent_for(study).n_updates == 10


def test_new_sampler_rebuilds_the_same_agent(tmp_path: Any) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = RLSampler(seed=19, n_startup_trials=3)
    study = optuna.create_study(storage=storage, sampler=first)
    study.optimize(_bowl, n_trials=12)
    q = first.agent_for(study).q
    # The study is the agent's only memory: another sampler instance (a restarted worker)
    # rebuilds the same Q-table from the trials and carries on.
    second = RLSampler(seed=20, n_startup_trials=3)
    loaded = optuna.load_study(study_name=study.study_name, storage=storage, sampler=second)
    np.testing.assert_array_equal(second.agent_for(loaded).q, q)
    loaded.optimize(_bowl, n_trials=4)
    for t in loaded.trials[3:]:
        _assert_valid_decision(t, startup=False)
    assert second.agent_for(loaded).n_updates == 13


# ---------------------------------------------------------------------------------------------
# Ask-and-tell, batches and parallel workers.
# ---------------------------------------------------------------------------------------------


def test_ask_and_tell_with_batches() -> None:
    distributions = {
        "x": FloatDistribution(-1.0, 1.0),
        "n": IntDistribution(1, 64, log=True),
        "c": CategoricalDistribution(["a", "b", "c"]),
    }
    sampler = RLSampler(seed=16, n_startup_trials=4)
    study = optuna.create_study(sampler=sampler)
    for batch in range(6):
        trials = [study.ask(distributions) for _ in range(4)]
        points = [tuple(t.params[k] for k in ("x", "n", "c")) for t in trials]
        if batch > 0:
            assert len(set(points)) == 4, points
        for i, trial in enumerate(trials):
            if (batch + i) % 5 == 3:
                study.tell(trial, state=TrialState.PRUNED)
            elif (batch + i) % 7 == 5:
                study.tell(trial, state=TrialState.FAIL)
            else:
                value = trial.params["x"] ** 2 + math.log2(trial.params["n"])
                study.tell(trial, value)
    assert len(study.trials) == 24
    for t in study.trials[4:]:
        _assert_valid_decision(t)
    for t in study.trials[8:]:
        _assert_valid_decision(t, startup=False)
    assert sampler.agent_for(study).n_updates > 0


@pytest.mark.parametrize("n_jobs", [2, 4])
def test_parallel_workers(n_jobs: int) -> None:
    n_startup = 5

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        k = trial.suggest_int("k", 0, 8)
        c = trial.suggest_categorical("c", ["u", "v"])
        time.sleep(0.002)
        return x**2 + (k - 4) ** 2 + (c == "v")

    sampler = RLSampler(seed=17, n_startup_trials=n_startup)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=40, n_jobs=n_jobs)
    trials = study.trials
    assert len(trials) == 40
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # Trial n starts with at most n_jobs - 1 other trials running, so from trial n_jobs on at
    # least one trial is complete, and from n_startup + n_jobs - 1 on start-up is over.
    for t in trials[n_jobs:]:
        _assert_valid_decision(t)
    for t in trials[n_startup + n_jobs - 1 :]:
        _assert_valid_decision(t, startup=False)
        anchor = _anchor(t)
        if anchor is not None:
            assert trials[anchor].state == TrialState.COMPLETE
    agent = sampler.agent_for(study)
    assert agent.n_updates == sum(
        _decision(t) is not None and _decision(t)["a"] >= 0 for t in trials
    )


# ---------------------------------------------------------------------------------------------
# Constructor validation.
# ---------------------------------------------------------------------------------------------


_BAD_ARGUMENTS: list[tuple[str, Any, type[Exception]]] = [
    ("seed", "1", TypeError),
    ("seed", 1.5, TypeError),
    ("seed", True, TypeError),
    ("seed", -1, ValueError),
    ("seed", 2**32, ValueError),
    ("n_startup_trials", -1, ValueError),
    ("n_startup_trials", 1.0, TypeError),
    ("n_startup_trials", True, TypeError),
    ("n_startup_trials", "3", TypeError),
    ("n_startup_trials", float("nan"), TypeError),
    ("n_startup_trials", None, TypeError),
    ("independent_sampler", "random", TypeError),
    ("independent_sampler", RandomSampler, TypeError),
    ("warn_independent_sampling", 1, TypeError),
    ("warn_independent_sampling", "yes", TypeError),
    ("warn_independent_sampling", None, TypeError),
    ("learning_rate", 0.0, ValueError),
    ("learning_rate", -0.1, ValueError),
    ("learning_rate", 1.5, ValueError),
    ("learning_rate", float("nan"), ValueError),
    ("learning_rate", float("inf"), ValueError),
    ("learning_rate", True, TypeError),
    ("learning_rate", "0.1", TypeError),
    ("learning_rate", None, TypeError),
    ("learning_rate", 10**400, ValueError),  # An int too large for a float.
    ("discount", 1.0, ValueError),
    ("discount", -0.1, ValueError),
    ("discount", float("nan"), ValueError),
    ("discount", False, TypeError),
    ("discount", [0.5], TypeError),
    ("epsilon_start", 1.1, ValueError),
    ("epsilon_start", -0.1, ValueError),
    ("epsilon_start", float("nan"), ValueError),
    ("epsilon_start", True, TypeError),
    ("epsilon_end", 2.0, ValueError),
    ("epsilon_end", float("nan"), ValueError),
    ("epsilon_end", "0", TypeError),
    ("epsilon_decay_trials", -1, ValueError),
    ("epsilon_decay_trials", 1.5, TypeError),
    ("epsilon_decay_trials", True, TypeError),
    ("epsilon_decay_trials", float("nan"), TypeError),
]


@pytest.mark.parametrize(
    ("name", "value", "error"),
    _BAD_ARGUMENTS,
    ids=[f"{name}={value!r}" for name, value, _ in _BAD_ARGUMENTS],
)
def test_constructor_rejects_bad_argument(name: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=name):
        RLSampler(**{name: value})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": 0},
        {"seed": 2**32 - 1},
        {"seed": None},
        {"n_startup_trials": 0},
        {"learning_rate": 1.0},
        {"learning_rate": 1},
        {"discount": 0.0},
        {"discount": 0},
        {"epsilon_start": 0.0, "epsilon_end": 1.0, "epsilon_decay_trials": 0},
        {"epsilon_start": 1, "epsilon_end": 0},
        {"independent_sampler": TPESampler(seed=0), "warn_independent_sampling": False},
    ],
)
def test_constructor_accepts_boundary_values(kwargs: dict[str, Any]) -> None:
    sampler = RLSampler(**kwargs)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_bowl, n_trials=3)
    assert len(study.trials) == 3


def test_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        RLSampler(0)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Randomness.
# ---------------------------------------------------------------------------------------------


def _mixed_objective(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 100, log=True)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    if trial.number % 3 == 0:
        trial.suggest_float(f"extra_{trial.number % 2}", 0.0, 1.0)
    return x**2 + math.log(n) + (c != "b")


def test_no_global_rng_side_effects() -> None:
    random.seed(1234)
    np.random.seed(1234)
    py_state = random.getstate()
    np_state = np.random.get_state()

    study = optuna.create_study(sampler=RLSampler(seed=18, n_startup_trials=5))
    study.optimize(_mixed_objective, n_trials=30)
    assert len(study.trials) == 30

    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0]
    np.testing.assert_array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


def _run(sampler_factory: Callable[[], RLSampler], n_trials: int = 40) -> Study:
    study = optuna.create_study(sampler=sampler_factory())
    study.optimize(_mixed_objective, n_trials=n_trials)
    return study


def test_seeded_study_is_reproducible() -> None:
    first = _run(lambda: RLSampler(seed=3))
    second = _run(lambda: RLSampler(seed=3))
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [_decision(t) for t in first.trials] == [_decision(t) for t in second.trials]
    np.testing.assert_array_equal(
        first.sampler.agent_for(first).q, second.sampler.agent_for(second).q
    )
    other = _run(lambda: RLSampler(seed=4))
    assert [t.params for t in first.trials] != [t.params for t in other.trials]


def test_reseed_rng_changes_the_stream() -> None:
    sampler = RLSampler(seed=3)
    sampler.reseed_rng()
    reseeded = _run(lambda: sampler, n_trials=15)
    seeded = _run(lambda: RLSampler(seed=3), n_trials=15)
    assert [t.params for t in reseeded.trials] != [t.params for t in seeded.trials]
