"""OptunaHub entry for optuna-rl: ``RLSampler`` comes from the installed ``optuna-rl`` package.

The sampler's code is not copied here, so the version installed with ``pip install optuna-rl``
decides its behaviour, whether it is imported directly or loaded through OptunaHub.
"""

from __future__ import annotations

from optuna_rl import RLSampler


__all__ = ["RLSampler"]
