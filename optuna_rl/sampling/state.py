"""Binning a summary of the trial history into a small discrete state.

The state describes progress, not position: how long since the best value improved, how large
the current step size is, and whether the model-guided move has lately been doing better than
the other moves (:mod:`optuna_rl.sampling.lead`). 3 x 3 x 2 = 18 states.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Progress(NamedTuple):
    """The summary of a history that the state is binned from."""

    since_improvement: int
    """Results (completed or pruned trials) since the best value last improved."""
    last_rank: float
    """Rank quantile of the last result among the earlier ones: the fraction of them better
    (ties count one half); 0 for a new best, 1 for the worst so far."""
    step_size: float
    """Step size in the normalised space recorded by the latest decision."""
    model_ahead: bool = True
    """Whether the model-guided move's recent results were good at least as often as the
    other moves' (:class:`~optuna_rl.sampling.lead.ModelLead`)."""


STAGNATION_EDGES = (3, 10)
"""``since_improvement`` below 3: improving; below 10: stalling; otherwise stagnant."""
STAGNATION_NAMES = ("improving", "stalling", "stagnant")

STEP_EDGES = (0.02, 0.08)
"""Step sizes below 0.02 of the range are small, below 0.08 medium, larger ones large."""
STEP_NAMES = ("step small", "step medium", "step large")

INITIAL_STEP_SIZE = 0.1
"""The step size before any decision (and of the start-up design's decisions): in the "large"
bin, just above its edge :data:`STEP_EDGES` ``[1]`` = 0.08, so that one ``shrink`` (x0.5) makes it
medium and three make it small."""

LEAD_NAMES = ("model ahead", "model behind")

N_STATES = len(STAGNATION_NAMES) * len(STEP_NAMES) * len(LEAD_NAMES)


def state_index(progress: Progress) -> int:
    """The state of a history summary, an integer in ``[0, N_STATES)``."""
    stagnation = int(np.searchsorted(STAGNATION_EDGES, progress.since_improvement, side="right"))
    step = int(np.searchsorted(STEP_EDGES, progress.step_size, side="right"))
    lead = 0 if progress.model_ahead else 1
    return (stagnation * len(STEP_NAMES) + step) * len(LEAD_NAMES) + lead


def describe_state(index: int) -> str:
    """The state in words, e.g. ``"stalling, step small, model ahead"``."""
    if not 0 <= index < N_STATES:
        raise ValueError(f"state index must be in [0, {N_STATES}), got {index}.")
    rest, lead = divmod(index, len(LEAD_NAMES))
    stagnation, step = divmod(rest, len(STEP_NAMES))
    return f"{STAGNATION_NAMES[stagnation]}, {STEP_NAMES[step]}, {LEAD_NAMES[lead]}"
