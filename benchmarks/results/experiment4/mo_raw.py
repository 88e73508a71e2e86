"""The exploratory runs of ``move_outcomes.py`` with each result's rank quantile, kept raw.

Run from ``benchmarks/``: ``python results/experiment4/mo_raw.py 1200 mo_raw.pkl``.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
import sys

import pandas as pd


sys.path.insert(0, str(Path(__file__).parent))

if __name__ == "__main__":
    from mo_raw_worker import run

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        frames = pool.map(run, range(int(sys.argv[1])), chunksize=1)
    pd.concat(frames, ignore_index=True).to_pickle(sys.argv[2])
