"""The prior refitted under the learned exploration (Thompson-drawn exploration steps, the
model's results expiring): two rounds of 240 exploratory runs from the shipped table, fitted by
fitted Q-iteration (``train_prior.train(2, 240, 2)``), then validated on the 60 held-out
problems of the synthetic corpus against its own state-blind row, its frozen self, the shipped
prior and its one-state row. Run from ``benchmarks/``:
``python results/experiment8/refit.py results/experiment8/prior_refit_explore.json``."""

from __future__ import annotations

import json
from pathlib import Path
import sys
import time


sys.path.insert(0, str(Path(__file__).parents[2]))

import train_prior  # noqa: E402

from optuna_rl.sampling.prior import load_prior  # noqa: E402
from optuna_rl.sampling.prior import prior_document  # noqa: E402


if __name__ == "__main__":
    start = time.time()
    q = train_prior.train(2, 240, 2)
    document = prior_document(q, "train_prior.train(2, 240, 2)")
    Path(sys.argv[1]).write_text(json.dumps(document, indent=1) + "\n")
    print(f"trained in {time.time() - start:.0f} s", flush=True)
    seeds = [train_prior.VALIDATION_SEED + i for i in range(60)]
    results = train_prior.validate(
        {
            "new prior": (q, True),
            "new prior, state-blind (mean row, frozen)": (train_prior.state_blind(q), False),
            "new prior, frozen": (q, False),
            "shipped prior": (load_prior(), True),
            "new prior, one state (mean row, learning)": (train_prior.state_blind(q), True),
        },
        seeds,
        2,
    )
    print("\n".join(train_prior.paired_lines(results, "new prior")))
    print(f"total {time.time() - start:.0f} s")
