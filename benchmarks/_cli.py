"""Argument types for the benchmark scripts' command lines: a bad value is an argparse error
that names the option, before anything runs, not a traceback deep inside a run."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A count of at least 1 (trials, jobs, dimensions, seeds as a count, ...)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {value}")
    return value


def seed_int(text: str) -> int:
    """A seed: an int in [0, 2**32), as numpy's generators take them."""
    value = _int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**32), got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int, got {text!r}") from None
