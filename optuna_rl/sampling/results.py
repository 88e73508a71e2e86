"""What the sampler's learner reads from a finished trial: how its result ranks, and the
decision the sampler recorded when it sampled it."""

from __future__ import annotations

import math
from typing import NamedTuple


COMPLETED, PRUNED, PRUNED_WITHOUT_VALUE = 0, 1, 2
"""Groups of results, best first."""


class RankKey(NamedTuple):
    """Sort key of a result; smaller is better.

    Completed trials come first, ranked by value; then pruned trials, ranked by how far they
    got and then by their last intermediate value (the order Optuna's TPE ranks them in); then
    pruned trials that reported nothing usable.
    """

    group: int
    """:data:`COMPLETED`, :data:`PRUNED` or :data:`PRUNED_WITHOUT_VALUE`."""
    neg_last_step: float
    """Minus the last step a pruned trial reported (0 for the other groups)."""
    value: float
    """The value, negated when the study maximises (0 for pruned trials without a value)."""


def improvement(previous_best: RankKey, key: RankKey) -> float:
    """How much ``key`` improves on ``previous_best``; infinite across groups (e.g. the first
    completed trial after pruned ones) or from an infinite value."""
    if previous_best.group != key.group or previous_best.neg_last_step != key.neg_last_step:
        return math.inf
    gain = previous_best.value - key.value
    return math.inf if math.isnan(gain) else gain


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
    key: RankKey | None
    """How its result ranks; ``None`` for a failed trial (or a NaN value)."""
    decision: Decision | None
    """The sampler's decision recorded on it, if any."""
