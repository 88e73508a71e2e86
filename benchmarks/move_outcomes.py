"""Which move improves the best value, and when: what a state for RLSampler's agent could steer by.

Runs RLSampler with a behaviour policy that explores half the time (every move is tried in every
situation) on problems of the synthetic training corpus (``_synthetic.py``; none is a benchmark
the sampler is judged on), and records, for every move the agent chose at random, the history it
was chosen in and whether its result improved the best value. Then it reports:

1. how often each move improves the best value, by the study's phase (results so far per
   dimension plus one), by stagnation and by the step size, each problem weighted equally;
2. what a state could gain: for several ways of binning the history, the table "in each state,
   the move that improved most often" is fitted on the problems of even seed and scored on those
   of odd seed (and the other way round), against the best single move (a state-blind table);
3. whether the agent's reward ranks the moves as their improvement rates do: the mean reward
   each move earned (the reward the sampler learns from) beside its improvement rate.

Run::

    python benchmarks/move_outcomes.py --problems 1200 --jobs 2

The report goes to ``benchmarks/results/move_outcomes.md``. These are exploratory runs, not
runs of the shipped policy: the figures describe the moves, not the sampler's results.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import datetime
import multiprocessing
from pathlib import Path
from typing import Any

from _cli import positive_int
from _common import command_line
from _common import source_version
from _common import to_markdown
from _machine import machine
from _synthetic import problem
import numpy as np
import optuna
import pandas as pd
from train_prior import RecordingAgent

from optuna_rl import RLSampler
from optuna_rl._trials import rank_key
from optuna_rl._trials import recorded_decision
from optuna_rl.sampling.learner import SearchLearner
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.results import Result
from optuna_rl.sampling.state import LEAD_NAMES
from optuna_rl.sampling.state import N_STATES
from optuna_rl.sampling.state import STAGNATION_EDGES
from optuna_rl.sampling.state import STEP_EDGES


BEHAVIOUR_EPSILON = 0.5
"""Share of random moves: enough that every move is tried in every situation."""
PSEUDO_COUNT = 20
"""Each state's improvement rate of a move is shrunk toward the move's overall rate with this
many pseudo-observations, so that rare states do not pick a move on a lucky handful."""
PHASE_EDGES = (10, 30)
"""Results per (dimension + 1) that separate the early, middle and late phases of a study."""


def run(seed: int) -> pd.DataFrame:
    """One exploratory study on the training problem of ``seed``: a row per agent decision.

    The trials are replayed through the sampler's own learner, so each row's situation and
    reward are exactly those the agent saw and learned from.
    """
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    p = problem(seed)
    sampler = RLSampler(seed=seed, epsilon_start=BEHAVIOUR_EPSILON, epsilon_end=BEHAVIOUR_EPSILON)
    study = optuna.create_study(sampler=sampler)
    study.optimize(p.objective, n_trials=p.n_trials)
    agent = RecordingAgent(N_STATES, len(ACTIONS), 0.0, 0.0)
    learner = SearchLearner(agent)
    rows: list[dict[str, Any]] = []
    for trial in study.trials:
        decision = recorded_decision(trial)
        key = rank_key(trial, 1.0)
        seen = learner.progress  # The step size in it is the newest decision's, as sampled.
        learner.fold(Result(trial.number, key, decision))
        if decision is not None and decision.by_agent and key is not None:
            rows.append(
                {
                    "seed": seed,
                    "family": p.family,
                    "dimension": p.dimension,
                    "n": trial.number,
                    "since": seen.since_improvement,
                    "step": seen.step_size,
                    "state": decision.state,
                    "model_behind": decision.state % len(LEAD_NAMES),
                    "move": ACTIONS[decision.action].name,
                    "explored": decision.explored,
                    "improved": learner.progress.since_improvement == 0,
                    "quantile": learner.progress.last_rank,
                    "reward": agent.transitions[-1].reward,
                }
            )
    return pd.DataFrame(rows)


def _bins(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    phase = frame["n"] / (frame["dimension"] + 1)
    return {
        "phase": np.digitize(phase, PHASE_EDGES),
        "stagnation": np.digitize(frame["since"], STAGNATION_EDGES),
        "step": np.digitize(frame["step"], STEP_EDGES),
        "lead": frame["model_behind"].to_numpy(),
        "sampler": frame["state"].to_numpy(),
    }


STATES: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "none (state-blind)": lambda b: np.zeros_like(b["phase"]),
    "the sampler's: stagnation x step x model lead": lambda b: b["sampler"],
    "phase": lambda b: b["phase"],
    "stagnation": lambda b: b["stagnation"],
    "phase x stagnation": lambda b: b["phase"] * 3 + b["stagnation"],
    "phase x stagnation x model lead": lambda b: (
        (b["phase"] * 3 + b["stagnation"]) * 2 + b["lead"]
    ),
    "phase x stagnation x step": lambda b: (b["phase"] * 3 + b["stagnation"]) * 3 + b["step"],
}
"""Ways of binning the history into a state, scored by the table each one supports."""


def held_out_rate(explored: pd.DataFrame, state_of: Callable[..., np.ndarray]) -> float:
    """Improvement rate, on held-out problems, of the move each state's table picks; the table
    is fitted on the other half of the problems (even and odd seeds, both ways, averaged)."""
    rates = []
    for half in (0, 1):
        fit = explored[explored["seed"] % 2 == half]
        test = explored[explored["seed"] % 2 != half]
        fit = fit.assign(state=state_of(_bins(fit)))
        test = test.assign(state=state_of(_bins(test)))
        overall = fit.groupby("move")["improved"].mean()
        stats = fit.groupby(["state", "move"])["improved"].agg(["sum", "size"])
        moves = stats.index.get_level_values("move")
        shrunk = (stats["sum"] + PSEUDO_COUNT * overall.reindex(moves).to_numpy()) / (
            stats["size"] + PSEUDO_COUNT
        )
        table = shrunk.groupby(level="state").idxmax().map(lambda key: key[1])
        chosen = test["state"].map(table).fillna(overall.idxmax())
        rate_of = test.groupby(["state", "move"])["improved"].mean()
        keys = list(zip(test["state"], chosen, strict=True))
        rates.append(float(np.nanmean([rate_of.get(key, np.nan) for key in keys])))
    return float(np.mean(rates))


def report(frame: pd.DataFrame, n_problems: int, started: str) -> str:
    explored = frame[frame["explored"]].copy()
    bins = _bins(explored)
    lines = [
        "# Which move improves the best value, and when",
        "",
        f"- Command: `{command_line()}`",
        f"- Date: {started} to {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"source {source_version()}",
        f"- Machine: {machine()}",
        f"- {n_problems} training problems of the synthetic corpus, {len(frame)} agent "
        f"decisions, {len(explored)} of them random (behaviour epsilon {BEHAVIOUR_EPSILON}); "
        "only the random ones are counted below, so the moves are compared in the same "
        "situations.",
        "",
        "## 1. Share of each move's results that improved the best value",
        "",
        "Each problem weighted equally (mean over problems of the rate within the problem).",
    ]
    for name, edges in (
        ("phase (results / (dimension + 1))", PHASE_EDGES),
        ("stagnation (results since the best improved)", STAGNATION_EDGES),
        ("step size the agent saw (the newest decision's)", STEP_EDGES),
    ):
        key = name.split(" ")[0]
        labels = [f"< {edges[0]}", f"{edges[0]}-{edges[1]}", f">= {edges[1]}"]
        table = (
            explored.assign(bin=bins[key])
            .groupby(["seed", "bin", "move"])["improved"]
            .mean()
            .groupby(level=["bin", "move"])
            .mean()
            .unstack("bin")
        )
        table.columns = [labels[int(c)] for c in table.columns]
        lines += ["", f"### By {name}", "", to_markdown(table).rstrip("\n")]
    lines += [
        "",
        "## 2. What a state could gain",
        "",
        "Improvement rate, on held-out problems, of the table that picks in each state the move "
        "that improved most often on the other problems (fit on even seeds, score on odd, and "
        "the other way round). The state-blind row is the best single move.",
        "",
        "| state | states | held-out improvement rate |",
        "|---|--:|--:|",
    ]
    for name, state_of in STATES.items():
        n_states = len(np.unique(state_of(bins)))
        lines.append(f"| {name} | {n_states} | {held_out_rate(explored, state_of):.4f} |")
    summary = explored.groupby("move").agg(
        improvement_rate=("improved", "mean"), mean_reward=("reward", "mean")
    )
    lines += [
        "",
        "## 3. What the reward pays each move",
        "",
        "The mean reward each move earned under the sampler's reward "
        "(:mod:`optuna_rl.sampling.rewards`: an improvement pays 0.25-1 by its size, a miss "
        "minus its rank quantile among the earlier results), beside the share of its results "
        "that improved the best value. Where the two orders differ, the learner is taught to "
        "prefer moves that find better values less often.",
        "",
        to_markdown(summary.sort_values("improvement_rate", ascending=False)).rstrip("\n"),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--problems", type=positive_int, default=1200, help="training problems to run"
    )
    parser.add_argument("--jobs", type=positive_int, default=2)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "move_outcomes.md"
    )
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)  # Before the run, not after it.
    started = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}"
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        frames = pool.map(run, range(args.problems), chunksize=1)
    frame = pd.concat(frames, ignore_index=True)
    args.out.write_text(report(frame, args.problems, started))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
