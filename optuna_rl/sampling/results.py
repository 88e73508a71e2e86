"""What the sampler's learner reads from a finished trial: how its result ranks, and the
decision the sampler recorded when it sampled it."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import NamedTuple


COMPLETED, INFEASIBLE, PRUNED, PRUNED_WITHOUT_VALUE = 0, 1, 2, 3
"""Groups of results, best first: completed and feasible; completed but violating a constraint;
pruned; pruned without a usable value."""


class RankKey(NamedTuple):
    """Sort key of a result of a single-objective study; smaller is better.

    Feasible completed trials come first, ranked by value; then completed trials that violate a
    constraint, ranked by their total violation and then by value (feasibility first, as
    Optuna's constrained samplers rank them); then pruned trials, ranked by how far they got and
    then by their last intermediate value (the order Optuna's TPE ranks them in); then pruned
    trials that reported nothing usable.
    """

    group: int
    """:data:`COMPLETED`, :data:`INFEASIBLE`, :data:`PRUNED` or :data:`PRUNED_WITHOUT_VALUE`."""
    order: float
    """What ranks results within the group before the value: the total violation of an
    infeasible trial, minus the last step of a pruned one, 0 otherwise."""
    value: float
    """The value, negated when the study maximises (0 for pruned trials without a value)."""


class ParetoKey(NamedTuple):
    """How a result of a multi-objective study ranks: by group and violation as
    :class:`RankKey`, then by Pareto dominance of its values (see
    :mod:`optuna_rl.sampling.pareto`)."""

    group: int
    order: float
    values: tuple[float, ...]
    """The values, each negated where the study maximises it (empty when pruned)."""


def improvement(previous_best: RankKey, key: RankKey) -> float:
    """How much ``key`` improves on ``previous_best``; infinite across groups (e.g. the first
    completed trial after pruned ones, the first feasible one) or violations, or from an
    infinite value."""
    if previous_best.group != key.group or previous_best.order != key.order:
        return math.inf
    gain = previous_best.value - key.value
    return math.inf if math.isnan(gain) else gain


def total_violation(constraints: Sequence[float]) -> float:
    """The sum of the positive constraint values (a constraint is satisfied at 0 or below, as in
    Optuna); a NaN constraint is violated infinitely."""
    violation = 0.0
    for value in constraints:
        if math.isnan(value):
            return math.inf
        violation += max(0.0, float(value))
    return violation


STARTUP = -1
"""Action of a decision whose point came from the start-up design."""


class Decision(NamedTuple):
    """What the sampler decided for a trial, as recorded on it (layout in
    :mod:`optuna_rl._attrs`)."""

    state: int
    """State the agent saw; -1 for a start-up trial."""
    action: int
    """Index of the action taken, or :data:`STARTUP`."""
    explored: bool
    """Whether the action was a random exploration step."""
    step_size: float
    """Step size in the normalised space after the action."""
    anchor: int
    """Number of the trial the move started from; -1 for none (a restart, the design)."""

    @property
    def by_agent(self) -> bool:
        """Whether the agent chose this trial's move (so it teaches the agent)."""
        return self.action >= 0


class Result(NamedTuple):
    """A finished trial as the sampler's learner sees it."""

    number: int
    key: RankKey | ParetoKey | None
    """How its result ranks; ``None`` for a failed trial (or a NaN value)."""
    decision: Decision | None
    """The sampler's decision recorded on it, if any."""
