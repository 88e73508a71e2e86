"""RLSampler on multi-objective studies and with constraints (``Trial.set_constraint`` and the
deprecated ``constraints_func``)."""

from __future__ import annotations

import math
import warnings

from _learning import assert_learned_from_the_study
import numpy as np
import optuna
from optuna.trial import FrozenTrial
from optuna.trial import Trial
from optuna.trial import TrialState
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl.core.ranking import Counts
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.prior import load_prior
from optuna_rl.sampling.rankings import ParetoRanking
from optuna_rl.sampling.results import COMPLETED
from optuna_rl.sampling.results import INFEASIBLE
from optuna_rl.sampling.results import PRUNED_WITHOUT_VALUE
from optuna_rl.sampling.results import ParetoKey


optuna.logging.set_verbosity(optuna.logging.WARNING)

INCUMBENT_MOVES = {a.name for a in ACTIONS if a.anchor == "incumbent"}


def zdt1(trial: Trial) -> tuple[float, float]:
    x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(5)])
    f1 = float(x[0])
    g = 1.0 + 9.0 * float(x[1:].mean())
    return f1, g * (1.0 - math.sqrt(f1 / g))


def hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact 2-D hypervolume (minimisation) of the points dominating ``reference``."""
    inside = points[np.all(points < reference, axis=1)]
    if len(inside) == 0:
        return 0.0
    inside = inside[np.argsort(inside[:, 0])]
    volume, best_second = 0.0, reference[1]
    for f1, f2 in inside:
        if f2 < best_second:
            volume += (reference[0] - f1) * (best_second - f2)
            best_second = f2
    return volume


def _front_hypervolume(study: optuna.Study) -> float:
    values = np.array([t.values for t in study.trials if t.state == TrialState.COMPLETE])
    return hypervolume_2d(values, np.array([1.1, 11.0]))


# --- The Pareto ranking ---------------------------------------------------------------------


def test_pareto_counts_dominance_feasibility_first() -> None:
    ranking = ParetoRanking(2)
    for number, key in enumerate(
        [
            ParetoKey(COMPLETED, 0.0, (1.0, 4.0)),
            ParetoKey(COMPLETED, 0.0, (2.0, 2.0)),
            ParetoKey(COMPLETED, 0.0, (3.0, 3.0)),  # dominated by (2, 2)
            ParetoKey(INFEASIBLE, 0.5, (0.0, 0.0)),
            ParetoKey(PRUNED_WITHOUT_VALUE, 0.0, ()),
        ]
    ):
        ranking.insert(key, number)
    assert ranking.counts(ParetoKey(COMPLETED, 0.0, (2.5, 2.5))) == Counts(1, 0, 5)
    assert ranking.counts(ParetoKey(COMPLETED, 0.0, (2.0, 2.0))) == Counts(0, 1, 5)
    assert ranking.counts(ParetoKey(COMPLETED, 0.0, (0.5, 1.0))) == Counts(0, 0, 5)
    # An infeasible result is beaten by every feasible one, and by smaller violations.
    assert ranking.counts(ParetoKey(INFEASIBLE, 1.0, (0.0, 0.0))) == Counts(4, 0, 5)
    # A new front point gains the results it dominates: the three feasible ones here, and the
    # two of worse groups.
    assert ranking.gain(ParetoKey(COMPLETED, 0.0, (1.0, 2.0))) == 3 + 2
    # Feasible results come first in the elites whatever the direction.
    for weights in (np.array([1.0, 0.0]), np.array([0.0, 1.0])):
        top = ranking.top(5, weights)
        assert set(top[:3]) == {0, 1, 2} and top[3:] == [3, 4]
    assert ranking.top(1, np.array([0.9, 0.1]))[0] == 0  # Best in the first objective.
    assert ranking.top(1, np.array([0.1, 0.9]))[0] == 1  # Best in the second.


# --- Multi-objective studies ----------------------------------------------------------------


def test_a_two_objective_study_is_learned_and_finds_a_front() -> None:
    sampler = RLSampler(seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(zdt1, n_trials=100)
    decisions = [t.system_attrs.get(DECISION_KEY) for t in study.trials]
    assert sum(d is not None and d["a"] >= 0 for d in decisions) == 90
    assert_learned_from_the_study(sampler.agent_for(study), load_prior())
    # The agent's incumbent moves start from a point of the front (the best along the trial's
    # direction), not always from the same one.
    anchors = {
        d["n"] for d in decisions if d and d["a"] >= 0 and ACTIONS[d["a"]].anchor == "incumbent"
    }
    assert len(anchors) >= 5
    assert len(study.best_trials) >= 10


def test_the_front_beats_random_search_on_zdt1() -> None:
    rl, random = [], []
    for seed in range(3):
        study = optuna.create_study(directions=["minimize"] * 2, sampler=RLSampler(seed=seed))
        study.optimize(zdt1, n_trials=80)
        rl.append(_front_hypervolume(study))
        baseline = optuna.create_study(
            directions=["minimize"] * 2, sampler=optuna.samplers.RandomSampler(seed=seed)
        )
        baseline.optimize(zdt1, n_trials=80)
        random.append(_front_hypervolume(baseline))
    assert all(a > b for a, b in zip(rl, random, strict=True)), (rl, random)


def test_three_objectives_and_mixed_directions() -> None:
    def objective(trial: Trial) -> tuple[float, float, float]:
        x = trial.suggest_float("x", -2.0, 2.0)
        y = trial.suggest_int("y", 0, 10)
        c = trial.suggest_categorical("c", ["a", "b"])
        return x**2 + y, -((x - 1.0) ** 2) - (c == "b"), abs(x + 1.0)

    study = optuna.create_study(
        directions=["minimize", "maximize", "minimize"], sampler=RLSampler(seed=1)
    )
    study.optimize(objective, n_trials=40)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.sampler.agent_for(study).n_updates == 30


def test_scaling_the_objectives_changes_nothing() -> None:
    # Rewards, elites and the model use ranks only: a study of (1000 f1, -f2) maximising the
    # second objective takes exactly the same steps as one of (f1, f2).
    def scaled(trial: Trial) -> tuple[float, float]:
        f1, f2 = zdt1(trial)
        return 1000.0 * f1, -f2

    plain = optuna.create_study(directions=["minimize", "minimize"], sampler=RLSampler(seed=2))
    plain.optimize(zdt1, n_trials=40)
    other = optuna.create_study(directions=["minimize", "maximize"], sampler=RLSampler(seed=2))
    other.optimize(scaled, n_trials=40)
    assert [t.params for t in plain.trials] == [t.params for t in other.trials]


def test_the_pruner_refuses_multi_objective_studies_as_optuna_does() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], pruner=RLPruner())
    trial = study.ask()
    with pytest.raises(NotImplementedError):
        trial.should_prune()


# --- Constraints ----------------------------------------------------------------------------


def _constrained(trial: Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    trial.set_constraint("sum", x + y - 1.0)  # feasible when x + y <= 1
    return (x - 3.0) ** 2 + (y - 3.0) ** 2  # unconstrained optimum (3, 3) is infeasible


def _feasible(trial: FrozenTrial) -> bool:
    return all(v <= 0.0 for v in trial.constraints.values())


def _assert_incumbent_is_feasible(study: optuna.Study, key: object = None) -> int:
    """Every incumbent-anchored move started from a feasible trial once one existed; returns
    how many moves were checked."""
    checked = 0
    for t in study.trials:
        decision = t.system_attrs.get(DECISION_KEY)
        if not decision or decision["a"] < 0 or ACTIONS[decision["a"]].anchor != "incumbent":
            continue
        earlier = [u for u in study.trials[: t.number] if u.state == TrialState.COMPLETE]
        if any(_feasible(u) for u in earlier):
            assert _feasible(study.trials[decision["n"]]), (t.number, decision)
            checked += 1
    return checked


def test_an_infeasible_trial_never_becomes_the_incumbent() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(_constrained, n_trials=60)
    assert _assert_incumbent_is_feasible(study) >= 20
    best_feasible = min(t.value for t in study.trials if _feasible(t))
    # The constrained optimum is 12.5 at (0.5, 0.5); the best infeasible values are far lower.
    assert best_feasible < 13.5
    assert min(t.value for t in study.trials) < best_feasible


def test_constraints_in_a_multi_objective_study() -> None:
    def objective(trial: Trial) -> tuple[float, float]:
        f1, f2 = zdt1(trial)
        trial.set_constraint("f1_at_least", 0.3 - f1)  # feasible when f1 >= 0.3
        return f1, f2

    study = optuna.create_study(directions=["minimize", "minimize"], sampler=RLSampler(seed=3))
    study.optimize(objective, n_trials=60)
    assert _assert_incumbent_is_feasible(study) >= 10
    feasible_front = [t for t in study.best_trials if _feasible(t)]
    assert feasible_front


def test_deprecated_constraints_func_is_honoured() -> None:
    def constraints(trial: FrozenTrial) -> tuple[float]:
        return (trial.params["x"] + trial.params["y"] - 1.0,)

    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        y = trial.suggest_float("y", -5.0, 5.0)
        return (x - 3.0) ** 2 + (y - 3.0) ** 2

    with pytest.warns(FutureWarning, match="constraints_func"):
        sampler = RLSampler(seed=0, constraints_func=constraints)
    study = optuna.create_study(sampler=sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study.optimize(objective, n_trials=40)
    assert all(t.constraints for t in study.trials)
    assert _assert_incumbent_is_feasible(study) >= 10
    with pytest.raises(TypeError, match="constraints_func"):
        RLSampler(constraints_func=42)  # type: ignore[arg-type]
