"""Paired win rates of the variants in one of this folder's CSVs, run by run, on the final value
(:func:`_paired.paired`, the reports' own comparison): BBOB on log10 regret floored at 1e-8,
per function, dimension, instance and seed (with the win rate per dimension); HPO per task and
seed. ``python pair.py dev_long.csv RL-range RL-metric``."""

from __future__ import annotations

from pathlib import Path
import sys

import numpy as np
import pandas as pd


sys.path.insert(0, str(Path(__file__).parents[2]))

from _paired import paired  # noqa: E402


def main() -> None:
    frame = pd.read_csv(sys.argv[1])
    names = sys.argv[2:] or sorted(set(frame["sampler"]))
    frame = frame[frame["sampler"].isin(names)]
    if "final_regret" in frame:
        frame["final"] = np.log10(frame["final_regret"].clip(lower=1e-8))
        keys = ["function", "dim", "instance", "seed"]
    else:
        frame["final"] = frame["final_best"]
        keys = ["task", "seed"]
    table = frame.pivot_table(index=keys, columns="sampler", values="final", aggfunc="mean")
    if "dim" in keys:
        print("mean log10 regret by dimension")
        print(table.groupby(level="dim").mean().round(3).to_string())
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pair = frame[frame["sampler"].isin([a, b])]
            (result,) = paired(pair, problem=keys, baseline=a, value="final", tolerance=1e-12)
            line = f"{a} vs {b}: {result.wins}-{result.losses} {result.win_rate:.0%}"
            line += f" p={result.sign_p:.2g}"
            if "dim" in keys:
                by_dim = {}
                for d, in_d in pair.groupby("dim"):
                    (r,) = paired(in_d, problem=keys, baseline=a, value="final", tolerance=1e-12)
                    by_dim[int(d)] = f"{r.win_rate:.0%}"
                line += f" by dimension {by_dim}"
            print(line)


if __name__ == "__main__":
    main()
