"""Paired comparisons of one sampler against the others, problem by problem, with a sign test
and a Wilcoxon signed-rank test: the figures behind "A beats B on x% of the problems".

A problem's value for a sampler is the mean over the seeds it was run with (lower is better).
Ties (equal values, common where both reach COCO's 1e-8 floor) are counted apart and left out of
the tests, as the sign test leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats


class Paired(NamedTuple):
    """``baseline`` against ``other`` over the problems both have."""

    other: str
    n: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    """Wins over the non-tied problems."""
    sign_p: float
    """Two-sided exact binomial (sign) test of wins against losses."""
    wilcoxon_p: float
    """Two-sided Wilcoxon signed-rank test of the non-zero differences."""
    mean_difference: float
    """Mean of baseline minus other (negative: the baseline is lower, better)."""


def paired(
    frame: pd.DataFrame,
    *,
    problem: Sequence[str],
    baseline: str,
    sampler: str = "sampler",
    value: str = "value",
    tolerance: float = 1e-9,
) -> list[Paired]:
    """``baseline`` against every other sampler in ``frame`` (tidy: one row per problem,
    sampler and seed), problem by problem; differences within ``tolerance`` are ties."""
    table = frame.pivot_table(index=list(problem), columns=sampler, values=value, aggfunc="mean")
    if baseline not in table.columns:
        return []
    results = []
    for other in table.columns:
        if other == baseline:
            continue
        both = table[[baseline, other]].dropna()
        difference = (both[baseline] - both[other]).to_numpy()
        tied = np.abs(difference) <= tolerance
        wins = int(np.sum(difference < -tolerance))
        losses = int(np.sum(difference > tolerance))
        decided = wins + losses
        sign_p = float(stats.binomtest(wins, decided).pvalue) if decided else 1.0
        nonzero = difference[~tied]
        wilcoxon_p = float(stats.wilcoxon(nonzero).pvalue) if len(nonzero) >= 6 else 1.0
        results.append(
            Paired(
                other=str(other),
                n=len(both),
                wins=wins,
                losses=losses,
                ties=int(tied.sum()),
                win_rate=wins / decided if decided else float("nan"),
                sign_p=sign_p,
                wilcoxon_p=wilcoxon_p,
                mean_difference=float(difference.mean()) if len(both) else float("nan"),
            )
        )
    return results


def paired_markdown(results: Sequence[Paired], baseline: str) -> str:
    """A Markdown table of :func:`paired`'s results."""
    lines = [
        f"| {baseline} against | problems | wins | losses | ties | win rate (non-tied) "
        "| sign test p | Wilcoxon p | mean difference |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r.other} | {r.n} | {r.wins} | {r.losses} | {r.ties} | {r.win_rate:.0%} "
            f"| {r.sign_p:.2g} | {r.wilcoxon_p:.2g} | {r.mean_difference:+.3f} |"
        )
    return "\n".join(lines)
