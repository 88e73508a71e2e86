"""The pretrained Q-table the agent starts from, shipped as a small JSON file.

``benchmarks/train_prior.py`` learns it offline by running the sampler on randomly generated
synthetic functions (not on any benchmark it is evaluated on) and writes
``optuna_rl/data/prior_q.json``. The file names the action set and the number of states it was
learned for, so a change of either cannot silently mis-assign values.
"""

from __future__ import annotations

from functools import lru_cache
import importlib.resources
import json
from typing import Any

import numpy as np

from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.state import N_STATES


PRIOR_FORMAT_VERSION = 1
PRIOR_FILE = "prior_q.json"


def prior_document(q: np.ndarray, produced_by: str) -> dict[str, Any]:
    """The JSON document of a prior Q-table (what :func:`load_prior` reads)."""
    return {
        "version": PRIOR_FORMAT_VERSION,
        "n_states": N_STATES,
        "actions": [action.name for action in ACTIONS],
        "produced_by": produced_by,
        "q": np.round(q, 5).tolist(),
    }


def parse_prior(document: dict[str, Any]) -> np.ndarray:
    """The Q-table of a prior document; ``ValueError`` if it does not fit this package."""
    if document.get("version") != PRIOR_FORMAT_VERSION:
        raise ValueError(f"Unsupported prior format version {document.get('version')!r}.")
    names = [action.name for action in ACTIONS]
    if document.get("actions") != names or document.get("n_states") != N_STATES:
        raise ValueError(
            "The prior Q-table was learned for another action set or state space; "
            "regenerate it with benchmarks/train_prior.py."
        )
    q = np.asarray(document["q"], dtype=np.float64)
    if q.shape != (N_STATES, len(ACTIONS)) or not np.all(np.isfinite(q)):
        raise ValueError(f"The prior Q-table has shape {q.shape} or non-finite values.")
    return q


@lru_cache(maxsize=1)
def _load_shipped() -> np.ndarray:
    text = importlib.resources.files("optuna_rl").joinpath("data", PRIOR_FILE).read_text()
    return parse_prior(json.loads(text))


def load_prior() -> np.ndarray:
    """The shipped pretrained Q-table (a copy), shape ``(N_STATES, len(ACTIONS))``."""
    return _load_shipped().copy()
