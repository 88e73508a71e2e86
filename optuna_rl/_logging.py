"""optuna-rl's loggers, children of Optuna's.

``optuna.logging.get_logger(__name__)`` in a package outside Optuna returns a logger outside
Optuna's hierarchy: ``optuna.logging.set_verbosity`` and Optuna's handler and format do not
reach it, so its warnings print bare whatever the verbosity and its info messages never show.
Named ``optuna.optuna_rl.<module>``, optuna-rl's messages follow Optuna's settings as Optuna's
own samplers' do.
"""

from __future__ import annotations

import logging

import optuna


def get_logger(module: str) -> logging.Logger:
    """The logger of ``module`` (its ``__name__``), under Optuna's library root logger."""
    return optuna.logging.get_logger(f"optuna.{module}")
