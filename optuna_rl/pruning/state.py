"""The pruner's state: how far the run is, where the trial ranks at this step among the other
trials' curves, and which way its rank is moving. 5 x 5 x 3 = 75 states; all scale free, so
the same policy fits any metric."""

from __future__ import annotations

import numpy as np


PROGRESS_EDGES = (0.1, 0.25, 0.5, 0.75)
"""Fraction of the run done (the step over the longest completed curve's last step)."""
PROGRESS_NAMES = ("<10% done", "10-25% done", "25-50% done", "50-75% done", ">75% done")
RANK_EDGES = (0.25, 0.5, 0.75, 0.9)
"""Rank quantile among the other curves at the step: quarters, with the worst tenth apart
(where pruning pays first)."""
RANK_NAMES = ("top quarter", "second quarter", "third quarter", "75-90th pct", "bottom 10%")
TREND_EDGE = 0.1
"""A rank that moved by more than this fraction of the others since the last report is a
trend."""
TREND_NAMES = ("gaining", "steady", "losing")

N_STATES = len(PROGRESS_NAMES) * len(RANK_NAMES) * len(TREND_NAMES)
CONTINUE = 0
PRUNE = 1
ACTION_NAMES = ("continue", "prune")


def state_index(fraction_done: float, quantile: float, quantile_change: float) -> int:
    """The pruner's state from the fraction of the run done, the rank quantile at this step
    (0 best, 1 worst) and its change since the previous report."""
    progress = int(np.searchsorted(PROGRESS_EDGES, fraction_done, side="right"))
    rank = int(np.searchsorted(RANK_EDGES, quantile, side="right"))
    trend = 1
    if quantile_change < -TREND_EDGE:
        trend = 0
    elif quantile_change > TREND_EDGE:
        trend = 2
    return (progress * len(RANK_NAMES) + rank) * len(TREND_NAMES) + trend


def better_ranked_states(index: int) -> list[int]:
    """The states at the same progress and trend whose rank is as good or better, best first.

    The chance of finishing among the best can only fall as the rank at a step worsens, so a
    state where pruning pays tells that pruning pays in every worse-ranked state too. This lets
    evidence flow to bad ranks, which completed curves visit rarely precisely because trials
    there are pruned.
    """
    rest, trend = divmod(index, len(TREND_NAMES))
    progress, rank = divmod(rest, len(RANK_NAMES))
    return [(progress * len(RANK_NAMES) + r) * len(TREND_NAMES) + trend for r in range(rank + 1)]


def describe_state(index: int) -> str:
    """The state in words, e.g. ``"25-50% done, bottom 10%, losing"``."""
    if not 0 <= index < N_STATES:
        raise ValueError(f"state index must be in [0, {N_STATES}), got {index}.")
    rest, trend = divmod(index, len(TREND_NAMES))
    progress, rank = divmod(rest, len(RANK_NAMES))
    return f"{PROGRESS_NAMES[progress]}, {RANK_NAMES[rank]}, {TREND_NAMES[trend]}"
