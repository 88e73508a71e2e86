"""The prior pruning policy the pruner starts from, shipped as a small JSON file.

``benchmarks/train_pruner_prior.py`` learns it offline, by the same Q-learning the pruner does
in a study, from a corpus of learning curves of many tasks (``benchmarks/pruning_corpus.py``)
and writes ``optuna_rl/data/pruner_prior.json``. Each entry comes with a weight: how many of a
study's own samples the prior value counts as. The study's samples are averaged in with it
(:class:`~optuna_rl.pruning.learner.CurveLearner`), so they outweigh it as they accumulate.

The file names the state space it was learned for (the bin edges) and the actions, so a change
of either cannot silently mis-assign values.
"""

from __future__ import annotations

from functools import lru_cache
import importlib.resources
import json
from typing import Any
from typing import NamedTuple

import numpy as np

from optuna_rl.pruning.state import ACTION_NAMES
from optuna_rl.pruning.state import N_STATES
from optuna_rl.pruning.state import STATE_SPACE


PRIOR_FORMAT_VERSION = 1
PRIOR_FILE = "pruner_prior.json"
MAX_PSEUDO_COUNT = 2**53
"""A prior value never weighs more than this many samples: a larger weight is a prior that no
study can move anyway, and counts stay exact integers (and within int64) however large
``prior_weight`` is."""


class PriorTable(NamedTuple):
    """Prior Q-values and how many samples each counts as."""

    q: np.ndarray
    """``(N_STATES, 2)`` values of (continue, prune)."""
    weight: np.ndarray
    """``(N_STATES, 2)`` pseudo-counts, non-negative integers; 0 where the prior knows
    nothing."""

    @classmethod
    def nothing(cls) -> PriorTable:
        """No prior: zeros that weigh nothing (the first sample replaces them)."""
        return cls(np.zeros((N_STATES, 2)), np.zeros((N_STATES, 2), dtype=np.int64))

    def scaled(self, factor: float) -> PriorTable:
        """The same values, each weighing ``factor`` times as much (rounded, and at most
        :data:`MAX_PSEUDO_COUNT`)."""
        counts = np.minimum(np.rint(self.weight * factor), MAX_PSEUDO_COUNT)
        return PriorTable(self.q, counts.astype(np.int64))


def prior_document(prior: PriorTable, produced_by: str, **facts: Any) -> dict[str, Any]:
    """The JSON document of a prior (what :func:`parse_prior` reads); ``facts`` are recorded
    beside it (how it was learned)."""
    return {
        "version": PRIOR_FORMAT_VERSION,
        "state_space": STATE_SPACE,
        "n_states": N_STATES,
        "actions": list(ACTION_NAMES),
        "produced_by": produced_by,
        **facts,
        "q": np.round(prior.q, 5).tolist(),
        "weight": prior.weight.astype(int).tolist(),
    }


def parse_prior(document: dict[str, Any]) -> PriorTable:
    """The prior of a document; ``ValueError`` if it does not fit this package."""
    if document.get("version") != PRIOR_FORMAT_VERSION:
        raise ValueError(f"Unsupported pruner prior format version {document.get('version')!r}.")
    if (
        document.get("state_space") != STATE_SPACE
        or document.get("n_states") != N_STATES
        or document.get("actions") != list(ACTION_NAMES)
    ):
        raise ValueError(
            "The pruner prior was learned for another state space or action set; regenerate "
            "it with benchmarks/train_pruner_prior.py."
        )
    return check_prior(document["q"], document["weight"])


def check_prior(q: Any, weight: Any) -> PriorTable:
    """A :class:`PriorTable` of ``q`` and ``weight``; ``ValueError`` unless both have shape
    ``(N_STATES, 2)``, ``q`` is finite and ``weight`` holds non-negative integers."""
    shape = (N_STATES, 2)
    values = np.array(q, dtype=np.float64)
    weights = np.array(weight, dtype=np.float64)
    if values.shape != shape or not np.all(np.isfinite(values)):
        raise ValueError(
            f"The prior Q-table must have shape {shape} and finite values, got shape "
            f"{values.shape}."
        )
    if weights.shape != shape or not np.all(weights >= 0) or np.any(weights != np.rint(weights)):
        raise ValueError(
            f"The prior weights must have shape {shape} and be non-negative integers, got "
            f"shape {weights.shape}."
        )
    return PriorTable(values, weights.astype(np.int64))


@lru_cache(maxsize=1)
def _load_shipped() -> PriorTable:
    text = importlib.resources.files("optuna_rl").joinpath("data", PRIOR_FILE).read_text()
    return parse_prior(json.loads(text))


def load_prior() -> PriorTable:
    """The shipped prior (copies)."""
    prior = _load_shipped()
    return PriorTable(prior.q.copy(), prior.weight.copy())
