"""RLPruner driven as Optuna's own pruner tests drive MedianPruner: ``study.ask()``,
``trial.report()``, ``trial.should_prune()`` and ``study.tell()``, on constructed learning curves
whose right policy is known."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
import math
from pathlib import Path
import subprocess
import sys
from typing import Any
from typing import Literal
import warnings

import numpy as np
import optuna
from optuna.samplers import RandomSampler
from optuna.samplers import TPESampler
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import Trial
from optuna.trial import TrialState
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import USER_PRUNER
from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.learner import MIN_STATE_SAMPLES
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.learner import CurveRecord
from optuna_rl.pruning.state import CONTINUE
from optuna_rl.pruning.state import N_STATES
from optuna_rl.pruning.state import PRUNE
from optuna_rl.pruning.state import describe_state


N_STEPS = 20
"""Steps 0 .. N_STEPS - 1 of a full run in the constructed studies."""
N_HISTORY = 40
"""Completed reference trials in the constructed studies."""
WORSE_THAN_ALL = 100.0
"""An offset far worse than every reference trial's (they are 0 .. N_HISTORY - 1)."""
JOURNAL_STEPS = 10
"""Steps per trial on Journal file storages, which sync the file at every report."""
NEAR_TOP = 1.5
"""An offset better than all reference trials but two: top 10%, yet not the best."""

Values = Mapping[int, float]
Direction = Literal["minimize", "maximize"]


@pytest.fixture(autouse=True)
def _quiet_optuna() -> Iterator[None]:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(verbosity)


# ---------------------------------------------------------------------------------------------
# Constructed studies
# ---------------------------------------------------------------------------------------------


def line(offset: float, steps: range | list[int] = range(N_STEPS)) -> dict[int, float]:
    """A learning curve that decays to ``offset``: ``offset + 10 / (step + 1)``. Curves of
    different offsets are parallel, so the rank at any step is the rank of the final value."""
    return {step: offset + 10.0 / (step + 1) for step in steps}


def negated(values: Values) -> dict[int, float]:
    return {step: -value for step, value in values.items()}


def offsets(n: int = N_HISTORY, seed: int = 0) -> list[float]:
    """``0 .. n-1`` in a fixed shuffled order, so that winners (trials ending among the best
    10% of those before them) appear throughout the history, not only first."""
    return [float(v) for v in np.random.default_rng(seed).permutation(n)]


def add_trial(
    study: Study,
    values: Values,
    final: float | None = None,
    state: TrialState = TrialState.COMPLETE,
) -> None:
    """Run one trial through ask, report and tell, without asking the pruner."""
    trial = study.ask()
    for step, value in values.items():
        trial.report(value, step)
    if state == TrialState.COMPLETE:
        study.tell(trial, final)
    else:
        study.tell(trial, state=state)


def parallel_study(pruner: RLPruner, direction: Direction = "minimize") -> Study:
    """``N_HISTORY`` completed trials whose curves are parallel lines ending at their offsets
    (negated for maximisation)."""
    study = optuna.create_study(direction=direction, pruner=pruner)
    sign = 1.0 if direction == "minimize" else -1.0
    for offset in offsets():
        curve = line(offset)
        add_trial(study, curve if sign > 0 else negated(curve), sign * offset)
    return study


def first_pruned_step(trial: Trial, values: Values) -> int | None:
    """Report ``values`` in step order as an objective does; the step at which the pruner said
    prune, or ``None`` if the trial ran to the end."""
    for step, value in values.items():
        trial.report(value, step)
        if trial.should_prune():
            return step
    return None


def value_at(trial: FrozenTrial, step: int) -> float:
    """The value ``trial`` stood at at ``step``, as the pruner ranks it (minimised)."""
    value = Curve(trial.intermediate_values, 1.0).value_at(step)
    return math.inf if value is None else value


def explanation(trial: Trial) -> str:
    """The pruner's last explanation, as stored (``Trial.user_attrs`` is the trial's own cache
    of what it set, so read the stored trial as optuna-dashboard does)."""
    user_attrs = trial.study.trials[trial.number].user_attrs
    text = user_attrs.get(USER_PRUNER)
    assert isinstance(text, str), user_attrs
    return text


def replay_of(study: Study, pruner: RLPruner | None = None) -> CurveLearner:
    """What ``pruner`` (by default the study's) has learned from ``study``, through its cache."""
    if pruner is None:
        assert isinstance(study.pruner, RLPruner)
        pruner = study.pruner
    return pruner._learner(study)


def states_where(replay: CurveLearner, *words: str) -> list[int]:
    """States whose description holds all ``words``, not on course to overtake the best (a
    state of its own), and that completed curves visited."""
    return [
        state
        for state in range(N_STATES)
        if all(word in describe_state(state) for word in words)
        and "overtake" not in describe_state(state)
        and replay.agent.visits[state].min() > 0
    ]


def assert_same_replay(a: CurveLearner, b: CurveLearner) -> None:
    np.testing.assert_array_equal(a.agent.q, b.agent.q)
    np.testing.assert_array_equal(a.agent.visits, b.agent.visits)
    assert a.finals[:] == b.finals[:]
    assert len(a.index) == len(b.index)
    assert a.horizon == b.horizon


# ---------------------------------------------------------------------------------------------
# Constructor
# ---------------------------------------------------------------------------------------------


BAD_ARGUMENTS: list[tuple[str, Any, type[Exception]]] = [
    ("n_startup_trials", -1, ValueError),
    ("n_startup_trials", 2.0, TypeError),
    ("n_startup_trials", True, TypeError),
    ("n_startup_trials", "5", TypeError),
    ("n_startup_trials", None, TypeError),
    ("n_startup_trials", float("nan"), TypeError),
    ("n_warmup_steps", -3, ValueError),
    ("n_warmup_steps", 1.5, TypeError),
    ("n_warmup_steps", False, TypeError),
    ("n_warmup_steps", float("nan"), TypeError),
    ("interval_steps", 0, ValueError),
    ("interval_steps", -1, ValueError),
    ("interval_steps", 1.0, TypeError),
    ("interval_steps", True, TypeError),
    ("top_quantile", 0.0, ValueError),
    ("top_quantile", 1.0, ValueError),
    ("top_quantile", -0.1, ValueError),
    ("top_quantile", 1.5, ValueError),
    ("top_quantile", float("nan"), ValueError),
    ("top_quantile", float("inf"), ValueError),
    ("top_quantile", True, TypeError),
    ("top_quantile", "0.1", TypeError),
    ("top_quantile", None, TypeError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_ARGUMENTS)
def test_constructor_rejects_bad_argument(name: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=name):
        RLPruner(**{name: value})


@pytest.mark.parametrize("table", ["abc", np.zeros((5, 5)), np.zeros((N_STATES, 2), complex)])
def test_a_bad_table_is_refused_even_without_prior_weight(table: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="initial_q_table"):
        RLPruner(initial_q_table=table, prior_weight=0.0)


def test_a_huge_prior_weight_is_a_prior_no_study_moves() -> None:
    # Pseudo-counts are capped (they used to overflow int64 to negative counts at 1e18 and
    # change the decisions): any weight from 1e17 up prunes the same trials.
    def pruned(weight: float) -> list[int]:
        study = optuna.create_study(
            sampler=optuna.samplers.RandomSampler(seed=0), pruner=RLPruner(prior_weight=weight)
        )
        study.optimize(reporting_objective, n_trials=30)
        return [t.number for t in study.trials if t.state == TrialState.PRUNED]

    frozen = pruned(1e17)
    assert frozen and pruned(1e18) == frozen and pruned(1e300) == frozen


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_startup_trials": 0},
        {"n_warmup_steps": 0},
        {"interval_steps": 1},
        {"top_quantile": 1e-6},
        {"top_quantile": 0.999},
        {"n_startup_trials": 1000, "n_warmup_steps": 1000, "interval_steps": 1000},
    ],
)
def test_constructor_accepts_boundary_values(kwargs: dict[str, Any]) -> None:
    RLPruner(**kwargs)


def test_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        RLPruner(5)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------------------------
# No pruning before evidence
# ---------------------------------------------------------------------------------------------


def test_first_trial_is_never_pruned() -> None:
    study = optuna.create_study(pruner=RLPruner(n_startup_trials=0))
    trial = study.ask()
    trial.report(1.0, 1)
    assert not trial.should_prune()


def test_trial_that_reports_nothing_is_not_pruned() -> None:
    study = parallel_study(RLPruner())
    trial = study.ask()
    assert not trial.should_prune()
    assert USER_PRUNER not in study.trials[trial.number].user_attrs


def test_no_pruning_before_n_startup_trials_completed() -> None:
    study = parallel_study(RLPruner(n_startup_trials=N_HISTORY + 2))
    trial = study.ask()
    assert first_pruned_step(trial, line(WORSE_THAN_ALL)) is None
    assert USER_PRUNER not in study.trials[trial.number].user_attrs
    study.tell(trial, WORSE_THAN_ALL)

    # Pruned and failed trials do not count; the same bad curve is pruned once enough trials
    # have completed.
    add_trial(study, line(5.5, range(3)), state=TrialState.PRUNED)
    add_trial(study, line(6.5, range(3)), state=TrialState.FAIL)
    trial = study.ask()
    assert first_pruned_step(trial, line(WORSE_THAN_ALL)) is None
    study.tell(trial, WORSE_THAN_ALL + 1.0)
    trial = study.ask()
    assert first_pruned_step(trial, line(WORSE_THAN_ALL)) is not None


def test_startup_threshold_counts_completed_trials() -> None:
    study = parallel_study(RLPruner(n_startup_trials=N_HISTORY))
    assert first_pruned_step(study.ask(), line(WORSE_THAN_ALL)) is not None


def test_no_pruning_before_warmup_steps() -> None:
    warmup = N_STEPS // 2
    study = parallel_study(RLPruner(n_warmup_steps=warmup))
    trial = study.ask()
    for step, value in line(WORSE_THAN_ALL).items():
        trial.report(value, step)
        if step < warmup:
            assert not trial.should_prune(), step
            assert USER_PRUNER not in study.trials[trial.number].user_attrs
        else:
            # The first check after the warm-up prunes the worst trial.
            assert trial.should_prune(), step
            assert explanation(trial).startswith(f"step {warmup}: prune")
            break


def test_nan_before_warmup_or_startup_is_not_pruned() -> None:
    study = parallel_study(RLPruner(n_warmup_steps=5))
    trial = study.ask()
    trial.report(float("nan"), 2)
    assert not trial.should_prune()

    study = parallel_study(RLPruner(n_startup_trials=N_HISTORY + 1))
    trial = study.ask()
    trial.report(float("nan"), 2)
    assert not trial.should_prune()


def test_checks_only_at_interval_steps() -> None:
    # Checks at steps 3, 8, 13, ...: a trial that turns bad at step 6 is pruned at step 8.
    study = parallel_study(RLPruner(n_warmup_steps=3, interval_steps=5))
    trial = study.ask()
    values = {**line(NEAR_TOP, range(6)), **line(WORSE_THAN_ALL, range(6, N_STEPS))}
    assert first_pruned_step(trial, values) == 8
    assert explanation(trial).startswith("step 8: prune")


@pytest.mark.parametrize("n_samples", [MIN_STATE_SAMPLES - 1, MIN_STATE_SAMPLES])
def test_state_must_be_seen_enough_times_to_prune(n_samples: int) -> None:
    # Learning from nothing. Curves reported at steps 0 and 10 only, each worse than all before
    # it: trial k ranks at (k + 1/2) / (k + 1) among the k before it at step 0, in the bottom
    # 10% from k = 4 on, so the state "<10% done, bottom 10%, steady" is seen n_samples times.
    study = optuna.create_study(pruner=RLPruner(n_startup_trials=0, prior_weight=0.0))
    for offset in range(n_samples + 4):
        add_trial(study, line(offset, [0, 10]), float(offset))
    trial = study.ask()
    trial.report(WORSE_THAN_ALL, 0)
    pruned = trial.should_prune()

    replay = replay_of(study)
    found = replay.state(Curve({0: WORSE_THAN_ALL}, 1.0))
    assert found is not None
    state, is_best = found
    assert not is_best
    assert describe_state(state) == "<10% done, bottom 10%, steady"
    samples = int(replay.agent.visits[state, PRUNE])
    assert samples == n_samples
    # The learned values favour pruning; only the lack of evidence stops it.
    q_continue, q_prune = replay.agent.q[state]
    assert q_prune > q_continue
    assert pruned == (samples >= MIN_STATE_SAMPLES)
    if not pruned:
        assert f"continue (state seen {samples} times, too little evidence)" in explanation(trial)


def test_best_at_its_step_is_never_pruned() -> None:
    # Crossing curves: trials that lead until the last step end worst (value -offset until the
    # last step, then +offset), so leading late in the run is a state where the learned policy
    # prunes. A trial that is the best at its step is spared anyway; one just behind it is not.
    study = optuna.create_study(pruner=RLPruner(prior_weight=0.0))
    last = N_STEPS - 1
    for offset in offsets():
        add_trial(study, {**line(-offset, range(last)), last: offset}, offset)
    step = 15

    best = study.ask()
    assert first_pruned_step(best, line(-WORSE_THAN_ALL, range(step + 1))) is None
    replay = replay_of(study)
    found = replay.state(Curve(line(-WORSE_THAN_ALL, range(step + 1)), 1.0))
    assert found is not None
    state, is_best = found
    assert is_best
    assert describe_state(state).startswith(">75% done, top 10%, steady")
    q_continue, q_prune = replay.agent.q[state]
    assert q_prune > q_continue
    assert replay.agent.visits[state, PRUNE] >= MIN_STATE_SAMPLES
    assert explanation(best).startswith(f"step {step}: continue (best at this step)")

    runner_up = study.ask()
    almost = line(-(N_HISTORY - 1.5), range(N_STEPS))
    pruned_at = first_pruned_step(runner_up, almost)
    assert pruned_at is not None and pruned_at < last


# ---------------------------------------------------------------------------------------------
# Learning from completed curves
# ---------------------------------------------------------------------------------------------


def _assert_parallel_policy(replay: CurveLearner) -> None:
    top = states_where(replay, "top 10%")
    bottom_late = states_where(replay, "50-75% done", "bottom 10%") + states_where(
        replay, ">75% done", "bottom 10%"
    )
    assert top and bottom_late
    for state in top:
        q_continue, q_prune = replay.agent.q[state]
        assert q_prune < q_continue, describe_state(state)
    for state in bottom_late:
        q_continue, q_prune = replay.agent.q[state]
        assert q_prune > q_continue, describe_state(state)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_learns_to_prune_the_worst_and_keep_the_top(direction: Direction) -> None:
    sign = 1.0 if direction == "minimize" else -1.0
    pruner = RLPruner()
    study = parallel_study(pruner, direction)
    _assert_parallel_policy(replay_of(study, pruner))

    bad = study.ask()
    pruned_at = first_pruned_step(bad, {s: sign * v for s, v in line(WORSE_THAN_ALL).items()})
    assert pruned_at is not None and pruned_at <= N_STEPS // 2
    assert ": prune (" in explanation(bad)
    assert "bottom 10%" in explanation(bad)
    study.tell(bad, state=TrialState.PRUNED)

    good = study.ask()
    almost_done = line(NEAR_TOP, range(N_STEPS - 1))
    assert first_pruned_step(good, {s: sign * v for s, v in almost_done.items()}) is None
    # The reason is rewritten only when the decision or the state changes.
    assert ": continue (higher Q-value)" in explanation(good)
    assert "top 10%" in explanation(good)


def test_maximise_learns_the_same_table_as_minimise() -> None:
    minimise, maximise = RLPruner(), RLPruner()
    study_min = parallel_study(minimise, "minimize")
    study_max = parallel_study(maximise, "maximize")
    assert_same_replay(replay_of(study_min, minimise), replay_of(study_max, maximise))


def test_decision_is_recorded_on_the_trial() -> None:
    pruner = RLPruner()
    study = parallel_study(pruner)
    for offset, action in ((WORSE_THAN_ALL, "prune"), (NEAR_TOP, "continue")):
        trial = study.ask()
        step = N_STEPS // 2
        values = line(offset, range(step + 1))
        for s, value in values.items():
            trial.report(value, s)
        assert trial.should_prune() == (action == "prune")

        replay = replay_of(study, pruner)
        found = replay.state(Curve(values, 1.0))
        assert found is not None
        state = found[0]
        q_continue, q_prune = replay.agent.q[state]
        samples = replay.agent.visits[state, PRUNE]
        from_prior = replay.prior.weight[state, PRUNE]
        assert explanation(trial) == (
            f"step {step}: {action} (higher Q-value); state: {describe_state(state)}; "
            f"Q(continue)={q_continue:.3f}, Q(prune)={q_prune:.3f}; "
            f"{samples} samples ({from_prior} from the prior)"
        )
        frozen = study.trials[trial.number]
        assert frozen.user_attrs[USER_PRUNER] == explanation(trial)
        study.tell(trial, state=TrialState.PRUNED)


def test_steps_not_aligned_across_trials() -> None:
    # Reference trials report every 3rd step and stop at different steps (21 to 30); new
    # trials report every step.
    study = optuna.create_study(pruner=RLPruner())
    for i, offset in enumerate(offsets()):
        add_trial(study, line(offset, range(0, 22 + 3 * (i % 4), 3)), offset)
    replay = replay_of(study)
    assert replay.horizon == 30

    bad = study.ask()
    pruned_at = first_pruned_step(bad, line(WORSE_THAN_ALL, range(31)))
    assert pruned_at is not None and pruned_at <= 15
    study.tell(bad, state=TrialState.PRUNED)

    for offset in (-1.0, NEAR_TOP):
        good = study.ask()
        assert first_pruned_step(good, line(offset, range(31))) is None, offset
        study.tell(good, offset)

    # A trial longer than any reference runs on: past step 30 nothing ranks against it.
    longer = study.ask()
    assert first_pruned_step(longer, line(-2.0, range(45))) is None
    assert ": continue (a full run's last step: pruning saves nothing)" in explanation(longer)


def test_single_report_at_step_zero_is_never_pruned() -> None:
    # Each trial reports once, at step 0: that is a full run's last step, so pruning would save
    # nothing (it used to be read as "no full run known" and pruned about 40% of the trials).
    def objective(trial: optuna.Trial) -> float:
        value = trial.suggest_float("x", -5.0, 5.0) ** 2
        trial.report(value, 0)
        if trial.should_prune():
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), pruner=RLPruner())
    study.optimize(objective, n_trials=40)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    last = study.trials[-1].user_attrs[USER_PRUNER]
    assert ": continue (a full run's last step: pruning saves nothing)" in last


# ---------------------------------------------------------------------------------------------
# NaN and infinity
# ---------------------------------------------------------------------------------------------


def test_nan_after_warmup_and_startup_is_pruned() -> None:
    study = parallel_study(RLPruner(n_warmup_steps=2))
    trial = study.ask()
    for step, value in line(NEAR_TOP, range(3)).items():
        trial.report(value, step)
        assert not trial.should_prune()
    trial.report(float("nan"), 3)
    assert trial.should_prune()
    assert explanation(trial) == "step 3: prune (the value is NaN)"


@pytest.mark.parametrize(
    ("direction", "value", "pruned"),
    [
        ("minimize", math.inf, True),
        ("minimize", -math.inf, False),
        ("maximize", -math.inf, True),
        ("maximize", math.inf, False),
    ],
)
def test_infinite_values(direction: Direction, value: float, pruned: bool) -> None:
    study = parallel_study(RLPruner(), direction)
    trial = study.ask()
    step = N_STEPS // 2
    for s in range(step + 1):
        trial.report(value, s)
    assert trial.should_prune() == pruned
    if pruned:
        assert "bottom 10%" in explanation(trial)
    else:
        assert "best at this step" in explanation(trial)


def test_nan_and_infinity_in_history() -> None:
    study = parallel_study(RLPruner())
    add_trial(study, {**line(3.5), 7: math.inf}, 3.5)
    add_trial(study, {**line(4.5), 8: float("nan")}, 4.5)
    add_trial(study, {**line(5.5), 9: -math.inf}, 5.5)
    add_trial(study, line(6.5), math.inf)
    add_trial(study, line(7.5), -math.inf)
    with pytest.warns(UserWarning, match="nan"):
        add_trial(study, line(8.5, range(5)), float("nan"))  # Optuna fails a NaN result.
    assert study.trials[-1].state == TrialState.FAIL

    bad = study.ask()
    assert first_pruned_step(bad, line(WORSE_THAN_ALL)) is not None
    study.tell(bad, state=TrialState.PRUNED)
    good = study.ask()
    assert first_pruned_step(good, line(NEAR_TOP)) is None
    study.tell(good, NEAR_TOP)
    replay = replay_of(study)
    assert np.isfinite(replay.agent.q).all()
    assert_same_replay(replay, replay_of(study, RLPruner()))


# ---------------------------------------------------------------------------------------------
# Waiting, running, failed and pruned trials
# ---------------------------------------------------------------------------------------------


def test_unfinished_failed_and_pruned_trials_in_history() -> None:
    study = parallel_study(RLPruner())
    add_trial(study, line(2.5, range(4)), state=TrialState.PRUNED)
    add_trial(study, {}, state=TrialState.PRUNED)
    add_trial(study, line(3.5, range(6)), state=TrialState.FAIL)
    add_trial(study, {}, state=TrialState.FAIL)
    running = study.ask()
    running.report(1.0, 0)
    trial = study.ask()
    study.enqueue_trial({})
    assert [t.state for t in study.trials[-3:]] == [
        TrialState.RUNNING,
        TrialState.RUNNING,
        TrialState.WAITING,
    ]
    assert first_pruned_step(trial, line(WORSE_THAN_ALL)) is not None
    study.tell(trial, state=TrialState.PRUNED)

    waiting = study.ask()  # Takes the enqueued trial.
    assert waiting.number == N_HISTORY + 6
    assert first_pruned_step(waiting, line(NEAR_TOP)) is None
    study.tell(waiting, NEAR_TOP)
    study.tell(running, state=TrialState.FAIL)
    assert all(t.state.is_finished() for t in study.trials)
    replay = replay_of(study)
    assert replay.n_completed == N_HISTORY + 1
    assert_same_replay(replay, replay_of(study, RLPruner()))


def _history_without(study: Study, skipped: int) -> Study:
    """A fresh study with ``study``'s finished trials, in order, except trial ``skipped``."""
    other = optuna.create_study(pruner=RLPruner())
    for trial in study.trials:
        if trial.number != skipped and trial.state.is_finished():
            other.add_trial(trial)
    return other


@pytest.mark.parametrize("unfinished", ["running", "waiting"])
def test_unfinished_trial_does_not_hold_back_later_trials(unfinished: str) -> None:
    # What is learned is the fold, in number order, of exactly the finished trials: a trial
    # that stays unfinished (a dead worker, an enqueued trial never run, an ask never told) is
    # skipped, and when it finishes the fold is redone from it, so the finishing order does not
    # matter.
    live = RLPruner()
    study = optuna.create_study(pruner=live)
    order = offsets()
    for offset in order[:10]:
        add_trial(study, line(offset), offset)
    held_back: Trial | None = None
    n_reported = 0
    if unfinished == "running":
        held_back = study.ask()
        n_reported = 5
        for step, value in line(order[10], range(n_reported)).items():
            held_back.report(value, step)
    else:
        study.enqueue_trial({})
    assert study.trials[10].state == TrialState[unfinished.upper()]
    assert replay_of(study, live).n_completed == 10

    for offset in order[11:]:
        # ``add_trial`` rather than ``ask``, which would start the waiting trial.
        study.add_trial(optuna.trial.create_trial(value=offset, intermediate_values=line(offset)))
    # The trials after the unfinished one are learned from, by the live and a fresh pruner, as
    # if the unfinished one were not there.
    without = replay_of(_history_without(study, 10))
    for pruner in (live, RLPruner()):
        replay = replay_of(study, pruner)
        assert replay.n_completed == N_HISTORY - 1
        assert_same_replay(replay, without)

    if held_back is None:
        held_back = study.ask()
        assert held_back.number == 10
    for step, value in line(order[10], range(n_reported, N_STEPS)).items():
        held_back.report(value, step)
    study.tell(held_back, order[10])
    # The gap filled: the live pruner refolds from it and agrees with a fresh one, and with a
    # study where every trial finished in order.
    replay = replay_of(study, live)
    assert replay.n_completed == N_HISTORY
    assert_same_replay(replay, replay_of(study, RLPruner()))
    assert_same_replay(replay, replay_of(parallel_study(RLPruner())))


# ---------------------------------------------------------------------------------------------
# Unsupported studies
# ---------------------------------------------------------------------------------------------


def test_multi_objective_raises_not_implemented() -> None:
    study = optuna.create_study(directions=["minimize", "maximize"], pruner=RLPruner())
    trial = study.ask()
    with pytest.raises(NotImplementedError):
        trial.should_prune()
    with pytest.raises(NotImplementedError, match="multi-objective"):
        RLPruner().prune(study, study.trials[0])


# ---------------------------------------------------------------------------------------------
# With samplers and optimize
# ---------------------------------------------------------------------------------------------


def reporting_objective(trial: Trial, n_steps: int = N_STEPS) -> float:
    """A training loop whose curves are parallel: ``(x - 2)^2 + 10 / (step + 1)``."""
    x = trial.suggest_float("x", -10.0, 10.0)
    value = math.inf
    for step in range(n_steps):
        value = (x - 2.0) ** 2 + 10.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def short_objective(trial: Trial) -> float:
    """:func:`reporting_objective` over fewer steps, for storages that sync every write."""
    return reporting_objective(trial, JOURNAL_STEPS)


SAMPLERS: list[Callable[[], optuna.samplers.BaseSampler]] = [
    lambda: TPESampler(seed=0),
    lambda: RandomSampler(seed=0),
    lambda: RLSampler(seed=0),
]


@pytest.mark.parametrize("make_sampler", SAMPLERS, ids=["tpe", "random", "rl"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_optimize_with_samplers(
    make_sampler: Callable[[], optuna.samplers.BaseSampler], n_jobs: int
) -> None:
    pruner = RLPruner()
    study = optuna.create_study(sampler=make_sampler(), pruner=pruner)
    study.optimize(reporting_objective, n_trials=40, n_jobs=n_jobs)

    trials = study.trials
    assert len(trials) == 40
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned
    assert study.best_trial.state == TrialState.COMPLETE
    for trial in pruned:
        # Pruned by the learned policy, at the step it last reported, never as the leader:
        # some other trial stood better at that step (with n_jobs=2, the other thread's trial
        # may have a higher number and have reported first).
        reason = trial.user_attrs[USER_PRUNER]
        assert reason.startswith(f"step {trial.last_step}: prune (")
        assert "higher Q-value" in reason or "pruning pays at a better rank" in reason
        step = trial.last_step
        assert step is not None
        value = trial.intermediate_values[step]
        assert any(value_at(other, step) < value for other in trials if other is not trial)
    assert_same_replay(replay_of(study, pruner), replay_of(study, RLPruner()))


# ---------------------------------------------------------------------------------------------
# Storage: rebuild and several workers
# ---------------------------------------------------------------------------------------------


def journal(path: Path) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)))


def test_rebuild_from_journal_equals_live(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    live = RLPruner()
    study = optuna.create_study(
        storage=journal(path), study_name="s", sampler=RandomSampler(seed=1), pruner=live
    )
    study.optimize(short_objective, n_trials=30)
    assert any(t.state == TrialState.PRUNED for t in study.trials)

    loaded = optuna.load_study(study_name="s", storage=journal(path))
    rebuilt = replay_of(loaded, RLPruner())
    assert rebuilt.n_completed == sum(t.state == TrialState.COMPLETE for t in loaded.trials)
    assert_same_replay(replay_of(study, live), rebuilt)


_WORKER = """
import math, sys
import optuna
from optuna_rl import RLPruner

optuna.logging.set_verbosity(optuna.logging.WARNING)
path, seed, n_trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def objective(trial):
    x = trial.suggest_float("x", -10.0, 10.0)
    for step in range({n_steps}):
        value = (x - 2.0) ** 2 + 10.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
study = optuna.load_study(
    study_name="workers",
    storage=storage,
    sampler=optuna.samplers.RandomSampler(seed=seed),
    pruner=RLPruner(),
)
study.optimize(objective, n_trials=n_trials)
"""


def test_several_workers_on_a_journal_storage(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    optuna.create_study(storage=journal(path), study_name="workers")
    n_workers, n_trials = 2, 15
    script = _WORKER.format(n_steps=JOURNAL_STEPS)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(seed), str(n_trials)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(n_workers)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr

    study = optuna.load_study(study_name="workers", storage=journal(path))
    trials = study.trials
    assert [t.number for t in trials] == list(range(n_workers * n_trials))
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned
    for trial in pruned:
        assert trial.user_attrs[USER_PRUNER].startswith(f"step {trial.last_step}: prune")
    first = replay_of(study, RLPruner())
    second = replay_of(optuna.load_study(study_name="workers", storage=journal(path)), RLPruner())
    assert first.n_completed == sum(t.state == TrialState.COMPLETE for t in trials)
    assert_same_replay(first, second)


def test_evidence_at_a_better_rank_prunes_worse_ranks() -> None:
    from optuna_rl.pruning.policy import pruning_evidence as _pruning_evidence
    from optuna_rl.pruning.state import N_STATES
    from optuna_rl.pruning.state import state_index

    q = np.zeros((N_STATES, 2))
    visits = np.zeros((N_STATES, 2), dtype=np.int64)
    second_quarter = state_index(0.3, 0.4, 0.0)
    bottom = state_index(0.3, 0.95, 0.0)
    top = state_index(0.3, 0.1, 0.0)
    other_progress = state_index(0.8, 0.95, 0.0)
    q[second_quarter] = (-0.7, -0.2)  # Pruning pays here, seen often enough.
    visits[second_quarter] = 5
    assert _pruning_evidence(q, visits, bottom) == second_quarter  # Never seen, still pruned.
    assert _pruning_evidence(q, visits, second_quarter) == second_quarter
    assert _pruning_evidence(q, visits, top) is None  # A better rank learns nothing from worse.
    assert _pruning_evidence(q, visits, other_progress) is None
    visits[second_quarter] = 4  # Too little evidence anywhere.
    assert _pruning_evidence(q, visits, bottom) is None


def test_step_index_ranks_as_a_pass_over_all_curves() -> None:
    """The incremental index gives the same counts and best value as comparing with every
    curve, at every step."""
    from optuna_rl.pruning.curves import StepIndex

    rng = np.random.default_rng(0)
    for _ in range(30):
        curves, index = [], StepIndex()
        for _ in range(int(rng.integers(1, 15))):
            stride, start = int(rng.integers(1, 4)), int(rng.integers(0, 5))
            reports = {start + stride * k: float(rng.integers(0, 6)) for k in range(8)}
            curves.append(Curve(reports, 1.0))
            index.add(curves[-1])
        last = max(int(c.last_step) for c in curves)
        # Every step, reported or not: at a step nobody reported, a curve that ended before it
        # does not count (it used to, through the nearest earlier reported step).
        for step in range(last + 3):
            value = float(rng.integers(0, 6))
            others = [v for v in (c.value_at(step) for c in curves) if v is not None]
            expected = (
                sum(v < value for v in others),
                sum(v == value for v in others),
                len(others),
            )
            assert index.counts(value, step) == expected
            assert index.best(step) == (min(others) if others else None)


def _worsening_replay(n_completed: int) -> CurveLearner:
    """Completed two-report curves, each worse than all before it at both steps."""
    replay = CurveLearner(top_quantile=0.1, n_warmup_steps=0)
    for i in range(n_completed):
        replay.fold(CurveRecord(Curve({1: float(i), 2: float(i)}, 1.0), float(i)))
    return replay


def test_curve_cut_short_is_a_reference_but_teaches_nothing() -> None:
    # A pruned or failed curve has no final value: nothing says whether pruning it lost a
    # winner. It is ranked against, and it changes neither the table nor the evidence.
    replay = _worsening_replay(MIN_STATE_SAMPLES + 1)
    q_before = replay.agent.q.copy()
    visits_before = replay.agent.visits.copy()
    n_before = len(replay.index)
    replay.fold(CurveRecord(Curve({1: 100.0, 2: 100.0}, 1.0), None))
    np.testing.assert_array_equal(replay.agent.q, q_before)
    np.testing.assert_array_equal(replay.agent.visits, visits_before)
    assert len(replay.index) == n_before + 1
    assert replay.n_completed == MIN_STATE_SAMPLES + 1


def test_continuing_is_scored_by_what_the_policy_would_do_later() -> None:
    # Three-report curves (steps 1 to 3): a winner's continue target at step 1 is the cost of
    # the step to step 2 plus, there, what the greedy policy does. Where it would prune at step
    # 2, continuing at step 1 costs the step and the lost winner. (At the last step the policy
    # never prunes: it would save nothing.)
    learner = CurveLearner(top_quantile=0.5, n_warmup_steps=0, winner_cost=4.0)
    learner.fold(CurveRecord(Curve({1: 5.0, 2: 5.0, 3: 5.0}, 1.0), 5.0))
    curve = Curve({1: 1.0, 2: 9.0, 3: 0.0}, 1.0)
    states, _ = learner._states(curve, 3)
    first, second = int(states[0]), int(states[1])
    assert first != second
    learner.agent.q[second] = (-1.0, 0.0)  # The policy prunes at the second report...
    learner.agent.visits[second] = MIN_STATE_SAMPLES
    learner.fold(CurveRecord(curve, 0.0))  # ... the trial that ends best (a winner).
    assert learner.agent.q[first, PRUNE] == -4.0
    assert learner.agent.q[first, CONTINUE] == pytest.approx(-1.0 / 3.0 - 4.0)


def test_an_objective_that_reports_once_learns_finite_values() -> None:
    # Every report at step 0: no run has a length, so pruning saves nothing; it must not divide
    # by the zero horizon (a RuntimeWarning and NaN Q-values shown on the dashboard).
    def once(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        trial.report(x**2, 0)
        if trial.should_prune():
            raise optuna.TrialPruned()
        return x**2

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), pruner=RLPruner())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        study.optimize(once, n_trials=40)
    learner = replay_of(study)
    assert learner.agent.n_updates > 0
    assert np.all(np.isfinite(learner.agent.q))
    assert not any("nan" in t.user_attrs.get(USER_PRUNER, "") for t in study.trials)


def test_one_pruner_explains_its_decisions_in_every_study() -> None:
    # Trial ids restart at 0 in every in-memory storage: the last decision written is kept per
    # trial of a storage, so the second study's trials get their explanations too.
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        trial.report((x - 1.0) ** 2, 0)
        if trial.should_prune():
            raise optuna.TrialPruned()
        return (x - 1.0) ** 2

    pruner = RLPruner()
    explained = []
    for _ in range(2):
        study = optuna.create_study(sampler=RandomSampler(seed=0), pruner=pruner)
        study.optimize(objective, n_trials=5)
        explained.append([USER_PRUNER in t.user_attrs for t in study.trials])
    assert explained[0] == explained[1] == [False, True, True, True, True]


def test_a_step_beyond_int64_does_not_stop_pruning() -> None:
    # Optuna takes any int step; the pruner's curves hold int64 steps, and a report at 2**63
    # used to make every later check of the study fail.
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        step = 2**63 + 5 if trial.number == 2 else 0
        trial.report((x - 1.0) ** 2, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
        return (x - 1.0) ** 2

    study = optuna.create_study(sampler=RandomSampler(seed=0), pruner=RLPruner())
    study.optimize(objective, n_trials=12)
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)


def test_a_trial_best_among_the_curves_spanning_its_step_is_not_pruned() -> None:
    # With a table that always prunes, only the guarantees hold a trial back. At step 6 the
    # one curve that spans it is worse (1.0 against 0.5): the trial is best there, although a
    # better curve (0.0) ended at step 4, the nearest step any curve reported.
    q = np.zeros((N_STATES, 2))
    q[:, 0] = -1.0
    study = optuna.create_study(pruner=RLPruner(initial_q_table=q, prior_weight=1000.0))
    full = study.ask()
    for step in (0, 4, 10):
        full.report(1.0, step)
    study.tell(full, 1.0)
    short = study.ask()
    for step in range(5):
        short.report(0.0, step)
    study.tell(short, state=TrialState.PRUNED)
    trial = study.ask()
    trial.report(0.5, 6)
    assert not trial.should_prune()
    assert "best at this step" in explanation(trial)
