"""Constructor argument checks shared by the sampler and the pruner, with Optuna-style messages."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from optuna.study import Study


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, *, minimum: int) -> int:
    # Any integral number, NumPy's included, as Optuna accepts them; never a bool.
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value}.")
    return int(value)


def check_float(
    name: str,
    value: Any,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float, got {value!r} of type {type(value).__name__}.")
    try:
        value = float(value)
    except OverflowError:  # An int too large for a float: beyond any bound.
        value = math.inf if value > 0 else -math.inf
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if math.isnan(value) or below or above:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"`{name}` must be in {interval}, got {value}.")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not _is_bool(value):
        raise TypeError(f"`{name}` must be a bool, got {value!r} of type {type(value).__name__}.")
    return bool(value)


def check_seed(value: Any) -> int | None:
    if value is None:
        return None
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`seed` must be None or an int, got {value!r} of type {type(value).__name__}."
        )
    seed = int(value)
    if not 0 <= seed < 2**32:
        raise ValueError(f"`seed` must be None or an int in [0, 2**32), got {seed}.")
    return seed


def check_q_table(table: Any, shape: tuple[int, int]) -> np.ndarray:
    """``initial_q_table`` as a float array of ``shape`` with finite values (not ``None``)."""
    error = TypeError(
        f"`initial_q_table` must be None or an array of real numbers of shape {shape}, "
        f"got {table!r}."
    )
    try:
        q = np.asarray(table)
        if q.dtype.kind not in "iuf":  # Not bools, complex numbers, strings or objects.
            raise error
        q = q.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise error from exc
    if q.shape != shape or not np.all(np.isfinite(q)):
        raise ValueError(
            f"`initial_q_table` must have shape {shape} and finite values, got shape {q.shape}."
        )
    return q


def check_study(study: Any) -> Study:
    """``study`` as the argument of a function that reads a study: an ``optuna.Study``."""
    if not isinstance(study, Study):
        raise TypeError(
            f"`study` must be an optuna.Study, got {study!r} of type {type(study).__name__}."
        )
    return study
