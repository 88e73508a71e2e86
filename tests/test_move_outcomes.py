"""``benchmarks/move_outcomes.py``: the records of the exploratory runs and the report."""

from __future__ import annotations

from pathlib import Path
import sys

import numpy as np
import optuna
import pandas as pd
import pytest


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

import move_outcomes  # noqa: E402

from optuna_rl.sampling.moves import ACTIONS  # noqa: E402


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    verbosity = optuna.logging.get_verbosity()
    # Seeds 3 and 8: 100-trial problems in 1 and 3 dimensions, a few seconds each.
    frame = pd.concat([move_outcomes.run(3), move_outcomes.run(8)], ignore_index=True)
    optuna.logging.set_verbosity(verbosity)
    return frame


def test_records_are_the_agents_decisions_with_their_outcomes(records: pd.DataFrame) -> None:
    assert set(records["seed"]) == {3, 8}
    assert set(records["move"]) <= {action.name for action in ACTIONS}
    # The behaviour policy explores about half the time.
    assert 0.3 < records["explored"].mean() < 0.7
    for _, study in records.groupby("seed"):
        # Start-up trials teach nothing: the first decision comes after them.
        assert study["n"].min() >= 10
        # A result that improved the best value resets the stagnation count for the next one.
        after_improvement = study["improved"].shift(1, fill_value=False).to_numpy()
        consecutive = np.diff(study["n"].to_numpy(), prepend=-1) == 1
        assert np.all(study["since"].to_numpy()[after_improvement & consecutive] == 0)
    # The columns a state is binned from give back the state the agent recorded.
    bins = move_outcomes._bins(records)
    rebuilt = (bins["stagnation"] * 3 + bins["step"]) * 2 + bins["lead"]
    np.testing.assert_array_equal(rebuilt, records["state"].to_numpy())
    improved, missed = records[records["improved"]], records[~records["improved"]]
    assert np.all((improved["reward"] >= 0.25) & (improved["reward"] <= 1.0))
    assert np.all((missed["reward"] <= 0.0) & (missed["reward"] >= -1.0))


def test_report_has_every_section_and_every_state(records: pd.DataFrame) -> None:
    text = move_outcomes.report(records, 2, "2026-01-01 00:00")
    for heading in ("## 1.", "## 2.", "## 3.", "### By phase", "### By stagnation"):
        assert heading in text
    for state in move_outcomes.STATES:
        assert f"| {state} |" in text
    lines = [line for line in text.splitlines() if "x model lead |" in line]
    rates = [float(line.rsplit("|", 2)[1]) for line in lines]
    assert rates and all(0.0 <= rate <= 1.0 for rate in rates)
