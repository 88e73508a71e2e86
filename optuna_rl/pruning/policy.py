"""The pruning decision at a report, with its reason in words (shown on the dashboard)."""

from __future__ import annotations

from typing import NamedTuple

from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.learner import MIN_STATE_SAMPLES
from optuna_rl.pruning.learner import CurveLearner
from optuna_rl.pruning.learner import pruning_evidence
from optuna_rl.pruning.state import ACTION_NAMES
from optuna_rl.pruning.state import CONTINUE
from optuna_rl.pruning.state import PRUNE
from optuna_rl.pruning.state import describe_state


class Verdict(NamedTuple):
    """A decision and why."""

    prune: bool
    reason: str
    """The decision and its reason, e.g. ``"prune (higher Q-value); state: ..."``; equal for
    equal decisions, so a caller can skip rewriting an unchanged one."""
    values: str = ""
    """The Q-values behind it, e.g. ``"; Q(continue)=-0.100, Q(prune)=0.000"``."""


def decide(learner: CurveLearner, curve: Curve) -> Verdict | None:
    """Whether to prune the running trial whose curve so far is ``curve``, at its last report;
    ``None`` if no other curve ranks against it there (no decision: go on).

    A NaN latest value is pruned (a diverged run; Optuna's ``MedianPruner`` prunes only an
    all-NaN curve), even at a full run's last step. Otherwise a trial at the last step of the
    longest completed run goes on: there is nothing left to save. Else the trial is pruned
    where the learned values say pruning pays, in its state or in a better-ranked one at the
    same progress and trend (:func:`pruning_evidence`), and never while it is the best at its
    step.
    """
    if curve.is_nan[-1]:
        return Verdict(True, "prune (the value is NaN)")
    if learner.n_full_runs and learner.horizon <= curve.last_step:
        # Pruning would save nothing and lose the trial's final value.
        return Verdict(False, "continue (a full run's last step: pruning saves nothing)")
    found = learner.state(curve)
    if found is None:
        return None
    state, is_best = found
    q, visits = learner.agent.q, learner.agent.visits
    evidence = pruning_evidence(q, visits, state)
    prune = not is_best and evidence is not None
    if is_best:
        why = "best at this step"
    elif evidence == state:
        why = "higher Q-value"
    elif evidence is not None:
        why = f"pruning pays at a better rank: {describe_state(evidence)}"
    elif visits[state, PRUNE] < MIN_STATE_SAMPLES:
        why = f"state seen {int(visits[state, PRUNE])} times, too little evidence"
    else:
        why = "higher Q-value"
    samples = int(visits[state, PRUNE])
    from_prior = int(learner.prior.weight[state, PRUNE])
    return Verdict(
        prune,
        f"{ACTION_NAMES[int(prune)]} ({why}); state: {describe_state(state)}",
        f"; Q(continue)={float(q[state, CONTINUE]):.3f}, Q(prune)={float(q[state, PRUNE]):.3f}"
        f"; {samples} samples ({from_prior} from the prior)",
    )
