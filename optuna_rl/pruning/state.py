"""The pruner's state: how far the run is, where the trial ranks at this step among the other
trials' curves, which way its rank is moving, and whether its own recent slope, carried on,
would overtake the best value at this step. 5 x 10 x 3 x 2 = 300 states; all scale free, so
the same policy fits any metric."""

from __future__ import annotations

import numpy as np


PROGRESS_EDGES = (0.1, 0.25, 0.5, 0.75)
"""Fraction of the run done (the step over the longest completed curve's last step)."""
PROGRESS_NAMES = ("<10% done", "10-25% done", "25-50% done", "50-75% done", ">75% done")
RANK_EDGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Rank quantile among the other curves at the step (0 best), in tenths: the policy is a rank
threshold at each progress and trend, and finer bins let it sit where it pays instead of
jumping between quarters."""


def _rank_names(edges: tuple[float, ...]) -> tuple[str, ...]:
    lows, highs = [0.0, *edges], [*edges, 1.0]
    names = [f"{100 * lo:.0f}-{100 * hi:.0f}th pct" for lo, hi in zip(lows, highs, strict=True)]
    names[0], names[-1] = f"top {100 * edges[0]:.0f}%", f"bottom {100 * (1 - edges[-1]):.0f}%"
    return tuple(names)


RANK_NAMES = _rank_names(RANK_EDGES)
TREND_EDGE = 0.1
"""A rank that moved by more than this fraction of the others since the last report is a
trend."""
TREND_NAMES = ("gaining", "steady", "losing")
OUTLOOK_NAMES = ("", "on course to overtake")
"""Whether the curve, extrapolated (:func:`overtakes`), passes the best value at this step: a
late bloomer far down the ranks is not a lost cause."""

N_STATES = len(PROGRESS_NAMES) * len(RANK_NAMES) * len(TREND_NAMES) * len(OUTLOOK_NAMES)
STATE_SPACE = {
    "progress_edges": list(PROGRESS_EDGES),
    "rank_edges": list(RANK_EDGES),
    "trend_edge": TREND_EDGE,
    "outlook": "slope of the last two reports, carried on for as many steps as done",
}
"""The bins, as a prior table records them (:mod:`~optuna_rl.pruning.prior`)."""
CONTINUE = 0
PRUNE = 1
ACTION_NAMES = ("continue", "prune")


def state_index(
    fraction_done: float, quantile: float, quantile_change: float, overtaking: bool = False
) -> int:
    """The pruner's state from the fraction of the run done, the rank quantile at this step
    (0 best, 1 worst), its change since the previous report, and whether the curve is on course
    to overtake the best value at this step (:func:`overtakes`)."""
    progress = int(np.searchsorted(PROGRESS_EDGES, fraction_done, side="right"))
    rank = int(np.searchsorted(RANK_EDGES, quantile, side="right"))
    trend = 1
    if quantile_change < -TREND_EDGE:
        trend = 0
    elif quantile_change > TREND_EDGE:
        trend = 2
    return _encode(progress, rank, trend, int(overtaking))


def _encode(progress: int, rank: int, trend: int, outlook: int) -> int:
    return ((outlook * len(PROGRESS_NAMES) + progress) * len(RANK_NAMES) + rank) * len(
        TREND_NAMES
    ) + trend


def _decode(index: int) -> tuple[int, int, int, int]:
    rest, trend = divmod(index, len(TREND_NAMES))
    rest, rank = divmod(rest, len(RANK_NAMES))
    outlook, progress = divmod(rest, len(PROGRESS_NAMES))
    return progress, rank, trend, outlook


def overtakes(steps: np.ndarray, values: np.ndarray, best: float, horizon: int) -> bool:
    """Whether a curve's last value, moved on by its slope over its last two reports until the
    end of the run (``horizon``) but for no more steps than it has done, passes ``best`` (the
    best other value at its last step; smaller is better).

    An extrapolated final value, cheap and scale free: it is only compared with the best value
    at the same step. It looks no further ahead than the run has come, so one steep early step
    does not promise the moon; a curve getting worse or flat never overtakes.
    """
    if len(steps) < 3 or not np.all(np.isfinite(values[-3:])):
        return False
    # Python floats: values near the float limits (a corrupted report) give an infinite slope
    # without numpy's overflow warning.
    last = float(values[-1])
    slope = (float(values[-3]) - last) / float(steps[-1] - steps[-3])
    ahead = min(horizon - int(steps[-1]), int(steps[-1]))
    return bool(slope > 0 and ahead > 0 and last - slope * ahead < best)


def better_ranked_states(index: int) -> list[int]:
    """The states at the same progress, trend and outlook whose rank is as good or better, best
    first.

    The chance of finishing among the best can only fall as the rank at a step worsens, so a
    state where pruning pays tells that pruning pays in every worse-ranked state too. This lets
    evidence flow to bad ranks, which completed curves visit rarely precisely because trials
    there are pruned.
    """
    progress, rank, trend, outlook = _decode(index)
    return [_encode(progress, r, trend, outlook) for r in range(rank + 1)]


def describe_state(index: int) -> str:
    """The state in words, e.g. ``"25-50% done, bottom 10%, losing"``."""
    if not 0 <= index < N_STATES:
        raise ValueError(f"state index must be in [0, {N_STATES}), got {index}.")
    progress, rank, trend, outlook = _decode(index)
    words = [PROGRESS_NAMES[progress], RANK_NAMES[rank], TREND_NAMES[trend]]
    return ", ".join(words + ([OUTLOOK_NAMES[outlook]] if outlook else []))
