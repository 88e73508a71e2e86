"""The agent's action set: parameter moves in the normalised space.

A move is a pure function ``(rng, anchor, context) -> Point``. Numeric coordinates stay inside
[0, 1] (out-of-range steps are reflected back at the bounds); categorical coordinates stay
valid choice indices. Snapping to int and step grids happens when the point is decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from optuna_rl.sampling.metric import LocalMetric
from optuna_rl.sampling.metric import local_metric
from optuna_rl.sampling.metric import ranked_mean_and_covariance
from optuna_rl.sampling.space import Point
from optuna_rl.sampling.space import nearest_level
from optuna_rl.sampling.surrogate import RankGP
from optuna_rl.sampling.surrogate import feature_groups
from optuna_rl.sampling.surrogate import features
from optuna_rl.sampling.surrogate import single_threaded_blas


MIN_STEP_SIZE = 1e-4
"""Smallest step size: a ten-thousandth of a parameter's range, below which a float step is
lost in the objective's noise and an int or step grid never moves."""
MAX_STEP_SIZE = 0.5
"""Largest step size: half the range; a larger Gaussian step is a uniform restart in all but
name (reflection folds it back over the whole range)."""


class MoveContext(NamedTuple):
    """What a move may know of the history."""

    elites: list[Point]
    """Best trials' points, best (the incumbent) first; never empty."""
    step_size: float
    """Standard deviation of a Gaussian step in the normalised space."""
    n_choices: np.ndarray
    """Number of choices of each categorical parameter."""
    observed_x: np.ndarray = np.zeros((0, 0))
    """Completed trials near the anchor, as the surrogate's inputs
    (:func:`~optuna_rl.sampling.surrogate.features`), shape ``(n, features)``; only the
    model-guided move reads them."""
    observed_y: np.ndarray = np.zeros(0)
    """Their values, smaller is better, on any scale (only their order is used)."""
    snap_numeric: Callable[[np.ndarray], np.ndarray] | None = None
    """Moves rows of numeric coordinates onto the int and step grids, where a trial would
    evaluate them (:meth:`~optuna_rl.sampling.space.NormalisedSpace.snap_numeric`)."""
    resolution: np.ndarray | None = None
    """Width of a grid point's share of each numeric coordinate, 0 where it is continuous
    (:attr:`~optuna_rl.sampling.space.NormalisedSpace.resolution`); None: all continuous."""


Move = Callable[[np.random.Generator, Point, MoveContext], Point]

INCUMBENT, ELITE, NO_ANCHOR = "incumbent", "elite", "none"
"""Anchors of an action: the best trial, a random other elite, or none (a restart)."""


class Action(NamedTuple):
    """One action of the agent: which anchor to start from, how to change the step size, and
    which move to apply."""

    name: str
    anchor: str
    """:data:`INCUMBENT`, :data:`ELITE` or :data:`NO_ANCHOR`."""
    move: Move
    step_factor: float = 1.0
    """The step size is multiplied by this before the move (grow > 1 > shrink)."""
    min_elites: int = 1
    """The action is only available with at least this many elites."""
    needs_numeric: bool = False
    """Only available when the space has a numeric parameter."""
    needs_categorical: bool = False
    """Only available when the space has a categorical parameter."""


def reflect(x: np.ndarray) -> np.ndarray:
    """Fold any real vector into [0, 1] by reflecting at the bounds (period 2)."""
    y = np.mod(x, 2.0)
    return np.clip(np.where(y > 1.0, 2.0 - y, y), 0.0, 1.0)


def elite_choice_weights(elites: list[Point], n_choices: np.ndarray) -> list[np.ndarray]:
    """Per categorical parameter, the choice frequencies among the elites with one pseudo-count
    per choice (Laplace smoothing), so every choice keeps a chance."""
    weights = []
    for j, n in enumerate(n_choices):
        counts = np.ones(int(n))
        for point in elites:
            counts[point.categorical[j]] += 1.0
        weights.append(counts / counts.sum())
    return weights


def _resample_categoricals(
    rng: np.random.Generator,
    categorical: np.ndarray,
    context: MoveContext,
    probability: float,
) -> np.ndarray:
    """Each categorical coordinate is redrawn from the elite frequencies with ``probability``."""
    out = categorical.copy()
    if out.size == 0:
        return out
    weights = elite_choice_weights(context.elites, context.n_choices)
    for j in np.flatnonzero(rng.random(out.size) < probability):
        out[j] = rng.choice(len(weights[j]), p=weights[j])
    return out


MAX_MUTATION_PROBABILITY = 0.5
"""A large step redraws at most half of the categorical values, so it never randomises all."""


def _mutation_probability(step_size: float) -> float:
    # A step of size sigma moves a numeric coordinate by about sigma of its range (2 sigma
    # covers about the middle 95% of a normal step's size); a categorical value changes with a
    # comparable probability.
    return float(min(MAX_MUTATION_PROBABILITY, 2.0 * step_size))


def gaussian_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Isotropic Gaussian step of standard deviation ``step_size`` around the anchor."""
    noise = context.step_size * rng.standard_normal(anchor.numeric.size)
    numeric = reflect(anchor.numeric + noise)
    categorical = _resample_categoricals(
        rng, anchor.categorical, context, _mutation_probability(context.step_size)
    )
    return Point(numeric, categorical)


def coordinate_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Change a single coordinate of the anchor: a numeric one by a Gaussian step as long as a
    full step in all dimensions (``step_size * sqrt(n)``), or a categorical one to another
    choice."""
    n_num, n_cat = anchor.numeric.size, anchor.categorical.size
    j = int(rng.integers(n_num + n_cat))
    numeric, categorical = anchor.numeric.copy(), anchor.categorical.copy()
    if j < n_num:
        scale = min(MAX_STEP_SIZE, context.step_size * np.sqrt(n_num))
        numeric[j] = reflect(numeric[j : j + 1] + scale * rng.standard_normal(1))[0]
    else:
        k = j - n_num
        n = int(context.n_choices[k])
        if n > 1:
            categorical[k] = (categorical[k] + rng.integers(1, n)) % n
    return Point(numeric, categorical)


JITTER = 0.25
"""Standard deviation of the small Gaussian noise that line and categorical moves add to the
numeric coordinates, in step sizes: enough to leave a grid point now and then, not to wander."""


def line_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Move along the line through the anchor and a second elite: toward it (``u > 0``) or
    across the anchor, away from it (``u < 0``), with a little Gaussian noise."""
    other = context.elites[1 + int(rng.integers(len(context.elites) - 1))]
    u = rng.uniform(-1.0, 1.0)
    noise = JITTER * context.step_size * rng.standard_normal(anchor.numeric.size)
    numeric = reflect(anchor.numeric + u * (other.numeric - anchor.numeric) + noise)
    take_other = rng.random(anchor.categorical.size) < max(u, 0.0)
    categorical = np.where(take_other, other.categorical, anchor.categorical)
    return Point(numeric, categorical)


DE_SCALE = (0.5, 1.0)
"""Range of the differential weight F, drawn per move ("dither"; Storn & Price, 1997, advise F
in [0.5, 1])."""
DE_CROSSOVER_RATE = 0.7
"""Probability that a coordinate comes from the mutant (Storn & Price's usual CR)."""


def differential_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """DE/rand/1/bin (Storn & Price, 1997): ``a + F (b - c)`` from three distinct elites,
    crossed over with the anchor coordinate by coordinate."""
    a, b, c = (context.elites[i] for i in rng.choice(len(context.elites), 3, replace=False))
    f = rng.uniform(*DE_SCALE)
    mutant = reflect(a.numeric + f * (b.numeric - c.numeric))
    n_num, n_cat = anchor.numeric.size, anchor.categorical.size
    mask = rng.random(n_num + n_cat) < DE_CROSSOVER_RATE
    mask[rng.integers(n_num + n_cat)] = True  # At least one coordinate comes from the mutant.
    numeric = np.where(mask[:n_num], mutant, anchor.numeric)
    categorical = np.where(mask[n_num:], a.categorical, anchor.categorical)
    return Point(numeric, categorical)


RECOMBINATION_FLOOR = 0.1
"""The recombination move's covariance never shrinks below ``(0.1 step_size)^2`` per
coordinate, so that elites that agree (or are fewer than the dimensions) still spread."""


def recombination_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Sample from the elites' weighted mean and covariance, as CMA-ES recombines its parents
    (Hansen, 2016, eq. 39 for the weights); the step size sets a floor on the spread."""
    mean, cov = ranked_mean_and_covariance(np.array([p.numeric for p in context.elites]))
    floor = (RECOMBINATION_FLOOR * context.step_size) ** 2
    cov = cov + floor * np.eye(len(mean))
    numeric = reflect(rng.multivariate_normal(mean, cov, method="cholesky"))
    categorical = _resample_categoricals(rng, anchor.categorical, context, 1.0)
    return Point(numeric, categorical)


CATEGORICAL_REDRAW = 0.2
"""Besides the one categorical value the categorical move surely changes, each other is redrawn
from the elites with this probability."""


def categorical_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Keep the anchor's numeric values (with a small jitter) and redraw its categorical values
    from the elite frequencies: one for sure, each other with probability 0.2."""
    numeric = reflect(
        anchor.numeric + JITTER * context.step_size * rng.standard_normal(anchor.numeric.size)
    )
    categorical = _resample_categoricals(rng, anchor.categorical, context, CATEGORICAL_REDRAW)
    k = int(rng.integers(anchor.categorical.size))
    weights = elite_choice_weights(context.elites, context.n_choices)[k].copy()
    if weights.size > 1:
        weights[anchor.categorical[k]] = 0.0
        categorical[k] = rng.choice(weights.size, p=weights / weights.sum())
    return Point(numeric, categorical)


N_CANDIDATES = 512
"""Candidates the model-guided move scores: enough to cover a trust region in 20 dimensions
coarsely, while scoring them against 120 observations stays near a millisecond."""
LOCAL_SHARE = 0.75
"""Share of the candidates drawn around the incumbent; the others are split between drawing
around the other elites and uniform points (a quarter of all), so the move can jump when the
model expects more far away."""
SCALE_SPREAD = 1.0
"""Candidate step sizes are ``step_size * exp(U(-1, 1))``: from a third to nearly three times
the current step, so the model picks the step length as well as the direction."""
SPANNING_SHARE = 0.5
"""Share of the candidates (when the best neighbours have a shape) whose step lengths are drawn
log-uniformly from the step size to the best neighbours' own spread (each end widened by
``exp(SCALE_SPREAD)``): the step size alone shrinks toward its floor over a long study while the
best points still lie far apart (``benchmarks/results/rl_experiments.md``)."""


def surrogate_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Model-guided step: the candidate of highest expected improvement under a Gaussian process
    fitted to the completed trials nearest the anchor (:data:`context.observed_x`; at most a few
    hundred, so in a study of up to about a hundred trials all of them), numeric and
    categorical parameters alike. Candidates are Gaussian steps around the anchor and the other
    elites, with categorical values redrawn from the elites as a Gaussian step does, and a
    quarter of uniform points, scored where they would be evaluated (snapped to the grids), as
    TuRBO scores candidates in its trust region (Eriksson et al., 2019). The numeric
    coordinates are modelled, and the steps drawn, in the local metric of the best neighbours
    (:mod:`~optuna_rl.sampling.metric`): their shape and size, not the range's; half of the
    candidates step as far as the step size, half anywhere up to the best neighbours' spread
    (:data:`SPANNING_SHARE`). Without enough data this is a Gaussian step."""
    x, y = context.observed_x, context.observed_y
    n_num, n_cat = anchor.numeric.size, anchor.categorical.size
    if n_num + n_cat == 0 or len(y) < n_num + n_cat + 2:
        return gaussian_step(rng, anchor, context)
    metric = local_metric(x[:, :n_num], y, context.resolution)
    if metric is not None:
        x = x.copy()
        x[:, :n_num] = (x[:, :n_num] - anchor.numeric) @ metric.whiten
    with single_threaded_blas():
        model = RankGP(x, y, feature_groups(n_num, context.n_choices))
        which = np.where(
            rng.random(N_CANDIDATES) < LOCAL_SHARE,
            0,
            rng.integers(len(context.elites), size=N_CANDIDATES),
        )
        centres = np.array([p.numeric for p in context.elites])
        scales = _candidate_scales(rng, context.step_size, metric)
        noise = rng.standard_normal((N_CANDIDATES, n_num))
        if metric is not None:
            noise = noise @ metric.shape.T
        numeric = reflect(centres[which] + scales * noise)
        categorical = _mutated_categoricals(rng, which, context)
        n_global = N_CANDIDATES // 4
        numeric[:n_global] = rng.random((n_global, n_num))
        for j, n in enumerate(context.n_choices.tolist()):
            categorical[:n_global, j] = rng.integers(n, size=n_global)
        if context.snap_numeric is not None:
            # Score each candidate where it would be evaluated: on a grid, many candidates
            # share a point, and an evaluated one has no improvement left to expect.
            numeric = context.snap_numeric(numeric)
        candidates = features(numeric, categorical, context.n_choices)
        if metric is not None:
            candidates[:, :n_num] = (candidates[:, :n_num] - anchor.numeric) @ metric.whiten
        best = int(np.argmax(model.expected_improvement(candidates)))
    return Point(numeric[best], categorical[best])


def _candidate_scales(
    rng: np.random.Generator, step_size: float, metric: LocalMetric | None
) -> np.ndarray:
    """Step lengths of the model-guided move's candidates (a column): around the step size, and
    for :data:`SPANNING_SHARE` of them, with a metric, anywhere from the step size to the best
    neighbours' spread."""
    shape = (N_CANDIDATES, 1)
    scales = step_size * np.exp(rng.uniform(-SCALE_SPREAD, SCALE_SPREAD, size=shape))
    if metric is None:
        return scales
    spanning = rng.random(shape) < SPANNING_SHARE
    low, high = sorted((np.log(step_size), np.log(metric.size)))
    spans = np.exp(rng.uniform(low - SCALE_SPREAD, high + SCALE_SPREAD, size=shape))
    return np.where(spanning, spans, scales)


def _mutated_categoricals(
    rng: np.random.Generator, which: np.ndarray, context: MoveContext
) -> np.ndarray:
    """The categorical values of the elites ``which``, each redrawn from the elite frequencies
    with the probability a Gaussian step of the current size would redraw it."""
    categorical = np.array([p.categorical for p in context.elites], dtype=np.int64)[which]
    if categorical.shape[1] == 0:
        return categorical
    probability = _mutation_probability(context.step_size)
    weights = elite_choice_weights(context.elites, context.n_choices)
    for j, w in enumerate(weights):
        redraw = rng.random(len(which)) < probability
        categorical[redraw, j] = rng.choice(len(w), size=int(redraw.sum()), p=w)
    return categorical


def grid_margin(
    rng: np.random.Generator,
    anchor: Point,
    point: Point,
    grids: Sequence[tuple[int, np.ndarray]],
) -> Point:
    """``point`` with, on each int or step grid the move left on the anchor's grid point, a
    move to a neighbouring grid point with probability ``1 / (n (4 + 3 ln n))`` (``n`` numeric
    coordinates): the margin of CMA-ES with margin (Hamano et al., 2022), whose ``1 / (n
    lambda)`` keeps an integer variable from being fixed for good. Moves built from elites that
    share a grid point, and steps shorter than the grid, never leave it otherwise."""
    if not grids:
        return point
    n = point.numeric.size
    probability = 1.0 / (n * (4.0 + 3.0 * np.log(n)))
    numeric = point.numeric.copy()
    for j, levels in grids:
        if len(levels) < 2 or rng.random() >= probability:
            continue
        here, there = nearest_level(levels, np.array([anchor.numeric[j], numeric[j]]))
        if there != here:
            continue
        step = 1 if rng.random() < 0.5 else -1
        if not 0 <= here + step < len(levels):
            step = -step
        numeric[j] = levels[here + step]
    return Point(numeric, point.categorical)


def restart_step(rng: np.random.Generator, anchor: Point, context: MoveContext) -> Point:
    """Restart: a point drawn uniformly from the whole space (the anchor is ignored)."""
    numeric = rng.random(anchor.numeric.size)
    categorical = np.array([rng.integers(n) for n in context.n_choices], dtype=np.int64)
    return Point(numeric, categorical)


ACTIONS: tuple[Action, ...] = (
    Action("gaussian", INCUMBENT, gaussian_step),
    Action("gaussian_elite", ELITE, gaussian_step, min_elites=2),
    Action("grow", INCUMBENT, gaussian_step, step_factor=2.0),
    Action("shrink", INCUMBENT, gaussian_step, step_factor=0.5),
    Action("coordinate", INCUMBENT, coordinate_step),
    Action("line", INCUMBENT, line_step, min_elites=2, needs_numeric=True),
    Action("differential", INCUMBENT, differential_step, min_elites=3, needs_numeric=True),
    Action("recombination", INCUMBENT, recombination_step, min_elites=3, needs_numeric=True),
    Action("categorical", INCUMBENT, categorical_step, needs_categorical=True),
    Action("restart", NO_ANCHOR, restart_step),
    Action("surrogate", INCUMBENT, surrogate_step),
)
"""The action set, in the order of the agent's action indices. Append only: indices are
stored on trials."""

RESTART = next(i for i, action in enumerate(ACTIONS) if action.name == "restart")
"""Index of the restart, the fallback when a move keeps landing on evaluated points."""
SURROGATE = next(i for i, action in enumerate(ACTIONS) if action.name == "surrogate")
"""Index of the model-guided move, the one that needs the observations."""


def available_actions(n_elites: int, n_numeric: int, n_categorical: int) -> np.ndarray:
    """Boolean mask of the actions that make sense for this history and search space."""
    return np.array(
        [
            n_elites >= action.min_elites
            and (n_numeric > 0 or not action.needs_numeric)
            and (n_categorical > 0 or not action.needs_categorical)
            for action in ACTIONS
        ]
    )


def scaled_step_size(step_size: float, factor: float) -> float:
    return float(np.clip(step_size * factor, MIN_STEP_SIZE, MAX_STEP_SIZE))
