"""From the agent and the history to a proposal: the point a trial evaluates, and the decision
recorded with it. Pure: runnable and testable without a study.

:func:`propose` asks the agent for an action in the current state, applies its move to the
anchor the action names, and makes sure the point is new: never a configuration a trial has
completed (on int, step and categorical grids moves often land on one), nor one close to a
running trial's. A move that keeps repeating grows its step; then a uniform restart takes over,
and the decision says so, so the agent learns from what was done.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from optuna_rl.core.agent import Agent
from optuna_rl.sampling.design import SobolDesign
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import ELITE
from optuna_rl.sampling.moves import NO_ANCHOR
from optuna_rl.sampling.moves import RESTART
from optuna_rl.sampling.moves import SURROGATE
from optuna_rl.sampling.moves import MoveContext
from optuna_rl.sampling.moves import grid_margin
from optuna_rl.sampling.moves import scaled_step_size
from optuna_rl.sampling.observations import ScoredObservations
from optuna_rl.sampling.results import STARTUP
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.space import NormalisedSpace
from optuna_rl.sampling.space import Point
from optuna_rl.sampling.state import INITIAL_STEP_SIZE


MAX_PROPOSALS = 8
"""Proposals a move gets to avoid repeats, its step growing to full size by the last; then as
many restarts; then the last restart stands (the space may have nothing new left)."""
MIN_GROWTH = 1.5
"""Each retry grows the step at least this much, so that a tiny step gets somewhere new."""
PENDING_TOLERANCE = 0.1
"""A proposal closer than this many step sizes (in every coordinate) to a running trial's point
is a near-duplicate of it."""


class Proposal(NamedTuple):
    """A point to evaluate and the decision that produced it."""

    point: Point
    decision: Decision


class Situation(NamedTuple):
    """What the policy knows of the study when it samples a trial."""

    state: int
    """The agent's state (:func:`~optuna_rl.sampling.state.state_index`)."""
    step_size: float
    """The step size of the newest decision."""
    elites: Sequence[tuple[int, Point]]
    """``(trial number, point)`` of the best results, best first; never empty."""


def startup(design: SobolDesign, space: NormalisedSpace, number: int) -> Proposal:
    """The start-up design's point for trial ``number``."""
    point = space.from_unit_cube(design.point(space.n_params, number))
    return Proposal(point, Decision(-1, STARTUP, False, INITIAL_STEP_SIZE, -1))


def propose(
    agent: Agent,
    situation: Situation,
    space: NormalisedSpace,
    observations: ScoredObservations,
    pending: Sequence[Point],
    rng: np.random.Generator,
    *,
    epsilon: float,
    allowed: np.ndarray,
    snap: Callable[[Point], Point],
) -> Proposal:
    """The agent's proposal for a new trial.

    Args:
        agent: The agent; only read.
        situation: The state, step size and elites.
        space: The normalised space's shape.
        observations: The completed trials (the model's data; the points not to repeat).
        pending: Points of the other running trials.
        rng: Randomness of this trial.
        epsilon: Probability of an exploration step.
        allowed: Mask of the actions the agent may take.
        snap: Maps a point to the one the trial will evaluate (onto the grids).

    Returns:
        The point and the decision.
    """
    elites = situation.elites
    action_index, explored = agent.act(situation.state, rng, epsilon, allowed)
    action = ACTIONS[action_index]
    step_size = scaled_step_size(situation.step_size, action.step_factor)
    if action.anchor == ELITE:
        anchor_number, anchor = elites[1 + int(rng.integers(len(elites) - 1))]
    else:
        anchor_number, anchor = elites[0]
    if action.anchor == NO_ANCHOR:
        anchor_number = -1
    observed_x, observed_y = np.zeros((0, 0)), np.zeros(0)
    if action_index == SURROGATE:
        observed_x, observed_y = observations.nearest(anchor)
    tolerance = PENDING_TOLERANCE * step_size

    def is_new(point: Point) -> bool:
        return not observations.evaluated(point) and not _is_near(point, pending, tolerance)

    context = MoveContext(
        [point for _, point in elites],
        step_size,
        space.n_choices,
        observed_x,
        observed_y,
        space.snap_numeric,
        space.resolution,
    )
    growth = max(MIN_GROWTH, (1.0 / step_size) ** (1.0 / (MAX_PROPOSALS - 1)))
    for _ in range(MAX_PROPOSALS):
        point = snap(grid_margin(rng, anchor, action.move(rng, anchor, context), space.grids))
        if is_new(point):
            return Proposal(
                point, Decision(situation.state, action_index, explored, step_size, anchor_number)
            )
        context = context._replace(step_size=min(1.0, context.step_size * growth))
    # The move keeps landing on evaluated configurations (moves built from the elites repeat
    # once the elites agree): restart from a uniform point instead.
    restart = ACTIONS[RESTART]
    for _ in range(MAX_PROPOSALS):
        point = snap(restart.move(rng, anchor, context))
        if is_new(point):
            break
    return Proposal(point, Decision(situation.state, RESTART, explored, step_size, -1))


def _is_near(point: Point, others: Sequence[Point], tolerance: float) -> bool:
    for other in others:
        if np.array_equal(point.categorical, other.categorical) and (
            point.numeric.size == 0
            or float(np.max(np.abs(point.numeric - other.numeric))) <= tolerance
        ):
            return True
    return False
