"""Reinforcement-learning-driven hyperparameter search for Optuna."""

from __future__ import annotations

from optuna_rl.pruner import RLPruner
from optuna_rl.sampler import RLSampler


__all__ = ["RLPruner", "RLSampler"]
__version__ = "0.1.0"
