"""Paired win rates of every two samplers on the final value, from benchmark CSVs
(:func:`_paired.paired`, the reports' own comparison).

``python pair.py A.csv,B.csv``: BBOB CSVs (``regret_trace``) are paired per function, dimension,
instance and seed, with wins by dimension; HPO CSVs (``best_trace``) per task and seed.
``--per-problem``: BBOB runs are first averaged over the seeds (log10 regret floored at -8), as
``bbob.py``'s reports pair them. Files named ``previous_*.csv`` (the previous version's runs)
are read with their samplers renamed by :data:`PREVIOUS`.

The README's comparisons with the previous version, from this folder::

    python pair.py ../rl_ablation/bbob.csv,previous_rl_ablation_bbob.csv --per-problem
    python pair.py heldout_model_ahead.csv,previous_rl_ablation_bbob.csv
    python pair.py hpo_model_ahead.csv,previous_rl_ablation_hpo.csv
"""

from __future__ import annotations

from pathlib import Path
import sys

import numpy as np
import pandas as pd


sys.path.insert(0, str(Path(__file__).parents[2]))

from _paired import paired  # noqa: E402


PREVIOUS = {
    "RLSampler": "RL-shipped",
    "RL-frozen": "RL-oldfrozen",
    "RL-state-blind": "RL-oldblind",
}
"""How the samplers of the ``previous_*.csv`` files (``../rl_ablation`` at commit 048d2fd, the
version before the lead) are named here."""
TOLERANCE = 1e-12
"""Final values closer than this are ties."""


def read(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path)
    if Path(path).name.startswith("previous_"):
        frame = frame[frame["sampler"].isin(PREVIOUS)]
        frame["sampler"] = frame["sampler"].map(PREVIOUS)
    trace = "regret_trace" if "regret_trace" in frame else "best_trace"
    frame["final"] = frame[trace].map(lambda s: float(s.split()[-1]))
    return frame


def main() -> None:
    frame = pd.concat([read(path) for path in sys.argv[1].split(",")])
    keys = ["function", "dim", "instance", "seed"] if "dim" in frame else ["task", "seed"]
    if "--per-problem" in sys.argv[2:] and "dim" in frame:
        frame["final"] = np.log10(frame["final"].clip(lower=1e-8))
        keys = keys[:-1]
    table = frame.pivot_table(index=keys, columns="sampler", values="final", aggfunc="mean")
    print("mean rank", table.rank(axis=1).mean().round(3).to_dict())
    names = sorted(table.columns)
    for a in names:
        for b in names:
            if a >= b:
                continue
            pair = frame[frame["sampler"].isin([a, b])]
            (result,) = paired(pair, problem=keys, baseline=a, value="final", tolerance=TOLERANCE)
            line = f"{a:>14} vs {b:<14} {result.wins:4d}-{result.losses:<4d} "
            line += f"{result.win_rate:.0%} p={result.sign_p:.2g}"
            if "dim" in keys:
                by_dim = {}
                for d in sorted(set(pair["dim"])):
                    (in_d,) = paired(
                        pair[pair["dim"] == d],
                        problem=keys,
                        baseline=a,
                        value="final",
                        tolerance=TOLERANCE,
                    )
                    by_dim[int(d)] = round(in_d.wins / max(1, in_d.wins + in_d.losses), 2)
                line += f" by dim {by_dim}"
            print(line)


if __name__ == "__main__":
    main()
