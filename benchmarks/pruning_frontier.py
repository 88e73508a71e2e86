"""How much can any rank-threshold pruner save on these curves? A hindsight frontier.

``benchmarks/pruning.py`` asks for at least 5x fewer epochs than NopPruner with the best final
value within 0.5% of Nop's. This script checks whether that is reachable at all on its curve
pools by a whole family of rules, each tuned *with hindsight on the very runs it is scored on*
(so an upper bound for rules of this family, not a method):

    at step ``k1``, stop a trial whose value ranks in the worst ``1 - keep1`` among the earlier
    trials' values at that step; then the same at step ``k2`` with ``keep2``.

Successive halving and the median rule are members of this family (one or two rungs, fixed
fractions); so is what RLPruner learns whenever its policy depends on the rank alone. As in
RLPruner, nothing is pruned before 5 trials have completed. The draws are the benchmark's:
``RandomSampler(seed)`` picks the configurations, so seed ``s`` here meets the same
configurations in the same order as seed ``s`` there.

For each task, over all rules with ``k1 < k2`` in a grid of early steps and ``keep`` in
{0.1, 0.15, 0.25, 0.35, 0.5} (and the one-rung rules), the report gives the rule of largest
mean saving whose mean Δbest is at least -0.5%, and the rule of best mean Δbest whose mean
saving is at least 5x. Metrics are those of ``pruning.py`` (saving = Nop's epochs over the
rule's; Δbest % against Nop's best final of the same seed).

Run::

    python benchmarks/pruning_frontier.py            # 20 seeds x 100 trials, like pruning.py

Output: ``benchmarks/results/pruning_frontier.md``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import datetime
import itertools
from typing import NamedTuple

from _cli import positive_int
import numpy as np
import optuna
from pruning import RESULTS
from pruning import TASK_NAMES
from pruning import CurvePool
from pruning import _task_label
from pruning import machine
from pruning import pool_path


KEEP_FRACTIONS = (0.1, 0.15, 0.25, 0.35, 0.5)
N_STARTUP_TRIALS = 5
LOSS_LIMIT_PCT = -0.5
SAVING_TARGET = 5.0


class Rule(NamedTuple):
    """Rungs ``(step index, keep fraction)``: at ``curve[step index]`` a trial must rank in the
    best ``keep`` fraction of the earlier trials' values there, or it stops."""

    rungs: tuple[tuple[int, float], ...]

    def describe(self) -> str:
        rungs = (f"keep the best {keep:.0%} at epoch {k + 1}" for k, keep in self.rungs)
        return ", then ".join(rungs)


class Score(NamedTuple):
    rule: Rule
    saving: float
    delta_best_pct: float


def draws(pool: CurvePool, seed: int, n_trials: int) -> np.ndarray:
    """The configurations ``pruning.py`` replays for ``seed``, in order."""
    sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    configs = []
    for _ in range(n_trials):
        trial = study.ask()
        configs.append(trial.suggest_int("config", 0, pool.n_configs - 1))
        study.tell(trial, 0.0)
    return np.array(configs)


def simulate(signed: np.ndarray, rule: Rule) -> tuple[int, float]:
    """Epochs spent and best final (signed, smaller is better) of ``rule`` on the curves
    ``signed`` (one row per trial, in order)."""
    horizon = signed.shape[1]
    seen: dict[int, list[float]] = {k: [] for k, _ in rule.rungs}
    spent, n_completed, best = 0, 0, np.inf
    for curve in signed:
        stop = horizon
        for k, keep in rule.rungs:
            earlier = seen[k]
            value = float(curve[k])
            if n_completed >= N_STARTUP_TRIALS and earlier:
                worse_than = np.mean(np.array(earlier) < value)
                if worse_than >= keep:
                    earlier.append(value)
                    stop = k + 1
                    break
            earlier.append(value)
        spent += stop
        if stop == horizon:
            n_completed += 1
            best = min(best, float(curve[-1]))
    return spent, best


def rules(horizon: int) -> list[Rule]:
    candidates = {0, 1, 2, 3, 4, horizon // 4 - 1, horizon // 2 - 1}
    # Rungs before the last epoch: a rule at the last one would only stop finished trials.
    steps = sorted(k for k in candidates if 0 <= k < horizon - 1)
    one = [Rule(((k, keep),)) for k in steps for keep in KEEP_FRACTIONS]
    two = [
        Rule(((k1, f1), (k2, f2)))
        for k1, k2 in itertools.combinations(steps, 2)
        for f1 in KEEP_FRACTIONS
        for f2 in KEEP_FRACTIONS
    ]
    return one + two


def score_all(pool: CurvePool, seeds: Sequence[int], n_trials: int) -> list[Score]:
    runs = [pool.sign * pool.curves[draws(pool, seed, n_trials)] for seed in seeds]
    nop = [(run.size, float(run[:, -1].min())) for run in runs]
    scores = []
    for rule in rules(pool.horizon):
        savings, deltas = [], []
        for run, (nop_spent, nop_best) in zip(runs, nop, strict=True):
            spent, best = simulate(run, rule)
            savings.append(nop_spent / spent)
            deltas.append(100.0 * (nop_best - best) / max(abs(nop_best), 1e-12))
        scores.append(Score(rule, float(np.mean(savings)), float(np.mean(deltas))))
    return scores


def frontier(scores: Sequence[Score]) -> tuple[Score | None, Score | None]:
    """The largest saving within the loss limit, and the smallest loss at the saving target."""
    within = [s for s in scores if s.delta_best_pct >= LOSS_LIMIT_PCT]
    saving = [s for s in scores if s.saving >= SAVING_TARGET]
    best_saving = max(within, key=lambda s: s.saving, default=None)
    least_loss = max(saving, key=lambda s: s.delta_best_pct, default=None)
    return best_saving, least_loss


def _cell(score: Score | None) -> str:
    if score is None:
        return "none | | "
    return f"{score.saving:.2f}x | {score.delta_best_pct:+.2f} | {score.rule.describe()}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=20)
    parser.add_argument("--trials", type=positive_int, default=100)
    parser.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), choices=TASK_NAMES)
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    info = machine()
    lines = [
        "# Pruning: the hindsight frontier of rank-threshold rules",
        "",
        f"Command: `python benchmarks/pruning_frontier.py --seeds {args.seeds} "
        f"--trials {args.trials}`  ",
        f"Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  ",
        f"Machine: {info['nproc']} cores, {info['cpu']}; Python {info['python']}, "
        f"Optuna {info['optuna']}  ",
        f"Settings: {args.seeds} seeds x {args.trials} trials, the draws of `pruning.py`",
        "",
        "Each rule is tuned with hindsight on the runs it is scored on, so these figures bound",
        "what any pruner deciding from ranks at one or two early epochs can reach (see the",
        "docstring of `benchmarks/pruning_frontier.py`).",
        "",
        f"| task | rules | largest saving with Δbest ≥ {LOSS_LIMIT_PCT}% | Δbest % | rule "
        f"| least loss with saving ≥ {SAVING_TARGET:.0f}x | Δbest % | rule |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for task in args.tasks:
        pool = CurvePool.load(pool_path(task))
        scores = score_all(pool, range(args.seeds), args.trials)
        best_saving, least_loss = frontier(scores)
        lines.append(
            f"| {_task_label(task)} | {len(scores)} | {_cell(best_saving)} | {_cell(least_loss)} |"
        )
        print(lines[-1], flush=True)
    path = RESULTS / "pruning_frontier.md"
    path.write_text("\n".join(lines) + "\n")
    print(path.read_text())


if __name__ == "__main__":
    main()
