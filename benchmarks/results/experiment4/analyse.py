"""Held-out improvement rate of tables greedy by candidate states, the lead feature among them
(``move_outcomes.py`` part 2, on the raw rows of ``mo_raw.py``). Run from ``benchmarks/``:
``python results/experiment4/analyse.py mo_raw.pkl``; the output is ``move_outcomes_lead.txt``.

``ahead_<kind>_<window>``: whether, over the latest ``window`` results of each kind, the
model-guided move's were ``kind`` (good: a new best or a rank quantile below 0.25; improved: a new
best) at least as often as the other moves' (1 until each kind has 3 results).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import sys

import numpy as np
import pandas as pd


sys.path.insert(0, str(Path(__file__).parents[2]))

import move_outcomes  # noqa: E402


def lead(frame: pd.DataFrame, window: int, column: str, minimum: int = 3) -> np.ndarray:
    out = np.ones(len(frame), dtype=int)
    for _, study in frame.groupby("seed", sort=False):
        history: tuple[list[float], list[float]] = ([], [])
        for index, by_model, value in zip(
            study.index, study["is_model"], study[column], strict=True
        ):
            model, other = history
            if len(model) >= minimum and len(other) >= minimum:
                out[index] = int(np.mean(model[-window:]) >= np.mean(other[-window:]))
            history[0 if by_model else 1].append(float(value))
    return out


def with_column(column: str, base: str | None) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    if base is None:
        return lambda b: b[column]
    if base == "sampler":
        return lambda b: b["sampler"] * 2 + b[column]
    return lambda b: (b["phase"] * 3 + b["stagnation"]) * 2 + b[column]


def main() -> None:
    frame = pd.read_pickle(sys.argv[1]).sort_values(["seed", "n"]).reset_index(drop=True)
    # These runs were made before the change: the state's third feature was then whether the
    # last result was poor (the "sampler" and "x model lead" rows bin that, not the lead).
    frame["model_behind"] = frame["state"] % 2
    frame["good"] = (frame["quantile"] < 0.25) | frame["improved"]
    frame["is_model"] = frame["move"] == "surrogate"
    columns = []
    for window, kind in [
        (10, "good"),
        (20, "good"),
        (10, "improved"),
        (20, "improved"),
        (5, "good"),
    ]:
        columns.append(f"ahead_{kind}_{window}")
        frame[columns[-1]] = lead(frame, window, kind)
    explored = frame[frame["explored"]].copy()
    bins = move_outcomes._bins

    def extended(part: pd.DataFrame) -> dict[str, np.ndarray]:
        return {**bins(part), **{c: part[c].to_numpy() for c in columns}}

    move_outcomes._bins = extended
    states = dict(move_outcomes.STATES)
    for column in columns:
        states[column] = with_column(column, None)
        states[column + " x sampler"] = with_column(column, "sampler")
        states[column + " x phase x stag"] = with_column(column, "phase")
    for name, state_of in states.items():
        print(f"{name:55s} {move_outcomes.held_out_rate(explored, state_of):.4f}")
    for column in ["ahead_good_10", "ahead_improved_10"]:
        print(column)
        print(explored.groupby([column, "move"])["improved"].mean().unstack(column).round(4))
        print(explored.groupby([column])["improved"].size())


if __name__ == "__main__":
    main()
