"""Reinforcement-learning-driven hyperparameter search for Optuna."""

from __future__ import annotations

from optuna_rl.sampler import RLSampler


__all__ = ["RLSampler"]
__version__ = "0.1.0"
