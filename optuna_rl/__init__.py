"""Reinforcement-learning-driven hyperparameter search for Optuna.

``RLSampler`` and ``RLPruner`` are imported on first use, so that the pure parts of the package
(:mod:`optuna_rl.core`, :mod:`optuna_rl.sampling`, :mod:`optuna_rl.pruning`) import without
Optuna.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any


if TYPE_CHECKING:
    from optuna_rl.pruner import RLPruner
    from optuna_rl.sampler import RLSampler


__all__ = ["RLPruner", "RLSampler"]
__version__ = "0.1.0"

_LAZY = {"RLPruner": "optuna_rl.pruner", "RLSampler": "optuna_rl.sampler"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optuna_rl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
