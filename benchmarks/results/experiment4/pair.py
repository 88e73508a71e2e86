"""Paired win rates of every two samplers on the final value, from benchmark CSVs.

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
from scipy import stats


PREVIOUS = {
    "RLSampler": "RL-shipped",
    "RL-frozen": "RL-oldfrozen",
    "RL-state-blind": "RL-oldblind",
}
"""How the samplers of the ``previous_*.csv`` files (``../rl_ablation`` at commit 048d2fd, the
version before the lead) are named here."""


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
    names = list(table.columns)
    for a in names:
        for b in names:
            if a >= b:
                continue
            diff = table[a] - table[b]
            tied = np.isclose(table[a], table[b], rtol=1e-9, atol=1e-12)
            wins, losses = int(((diff < 0) & ~tied).sum()), int(((diff > 0) & ~tied).sum())
            p = stats.binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
            line = f"{a:>14} vs {b:<14} {wins:4d}-{losses:<4d} {wins / max(1, wins + losses):.0%}"
            line += f" p={p:.2g}"
            if "dim" in keys:
                dims = table.index.get_level_values("dim")
                by_dim = {
                    int(d): round(
                        float(
                            ((diff < 0) & ~tied)[dims == d].sum()
                            / max(1, (~tied)[dims == d].sum())
                        ),
                        2,
                    )
                    for d in sorted(set(dims))
                }
                line += f" by dim {by_dim}"
            print(line)


if __name__ == "__main__":
    main()
