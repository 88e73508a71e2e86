"""The prior's refit for the lead state: two rounds of 240 exploratory runs from the table shipped
before, fitted by fitted Q-iteration (``train_prior.train``). Run from ``benchmarks/``:
``python results/experiment4/refit.py prior_q.json``."""

from __future__ import annotations

import json
from pathlib import Path
import sys


sys.path.insert(0, str(Path(__file__).parents[2]))

import train_prior  # noqa: E402

from optuna_rl.sampling.prior import prior_document  # noqa: E402


if __name__ == "__main__":
    q = train_prior.train(2, 240, 2)
    document = prior_document(q, "train_prior.train(2, 240, 2)")
    Path(sys.argv[1]).write_text(json.dumps(document, indent=1) + "\n")
