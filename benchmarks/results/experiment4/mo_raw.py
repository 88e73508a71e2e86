"""The exploratory runs of ``move_outcomes.py`` (each row with its result's rank quantile among
the earlier results), kept raw for ``analyse.py``.

Run from ``benchmarks/``: ``python results/experiment4/mo_raw.py 1200 mo_raw.pkl``. (The
``mo_raw.pkl`` behind ``move_outcomes_lead.txt`` was made with the state before the lead.)
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
import sys

import pandas as pd


sys.path.insert(0, str(Path(__file__).parents[2]))

from move_outcomes import run  # noqa: E402


if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        frames = pool.map(run, range(int(sys.argv[1])), chunksize=1)
    pd.concat(frames, ignore_index=True).to_pickle(sys.argv[2])
