"""RLPruner against Optuna's pruners, on replayed real learning curves.

A pool of configurations per task is trained once to the full horizon
(``benchmarks/pruning_curves.py``; ``--make-curves`` regenerates the pools). Each study then
*replays* the pool: a trial draws ``config = trial.suggest_int("config", 0, N - 1)`` from
``RandomSampler(seed=seed)`` and reports that configuration's stored curve epoch by epoch (step
``e`` = epochs trained, ``1..H``), asking ``should_prune`` after each report; a completed trial
returns its last value. The sampler draws once per trial, so for one seed every pruner meets the
same configurations in the same order (HyperbandPruner wraps the study per bracket, not the
sampler's random stream), and the only difference between two runs is what their pruner stopped.

Metrics, per task, pruner and seed (``n_trials`` trials, horizon ``H``):

- **epochs**: the epochs consumed, i.e. the reports made by all trials (a pruned trial counts the
  report it was pruned at). NopPruner consumes exactly ``B = n_trials * H``.
- **saving**: Nop's epochs over the pruner's epochs for the same seed (1.0 for Nop), then
  averaged over seeds.
- **best final**: the best last value among the completed trials (pruned trials have none).
- **Δbest %**: ``100 * (best - nop_best) / |nop_best|`` for maximisation and
  ``100 * (nop_best - best) / |nop_best|`` for minimisation, against Nop's run of the same seed:
  negative is worse than Nop. Averaged over seeds.
- **anytime regret** ``r(e)``, for ``e = 1..B`` cumulative epochs: with ``v*`` the best and
  ``v_med`` the median final value of the whole pool, and ``v(e)`` the best final value among the
  trials completed within the first ``e`` epochs,
  ``r(e) = clip((v* - v(e)) / (v* - v_med), 0, 1)`` (signs flipped when minimising), and
  ``r(e) = 1`` before the first completion. 0 means the pool's best configuration was found; 1
  means nothing better than the pool's median. After a pruner's last trial ends, ``v(e)`` stays
  as it is: the budget it saved is not spent.
- **area**: the normalised area under the anytime curve, ``mean(r(e) for e in 1..B)``, in
  [0, 1]; smaller is better (found good configurations sooner and kept them).
- **winners pruned %**: of the sampled trials whose configuration ends in the pool's top 10 %
  by final value, the share that was pruned (summed over seeds).

**Equal budget** (``--equal-budget``, written to ``pruning_budget.*``): the same, except that
every study runs trials until it has spent Nop's budget ``B`` epochs, so what a pruner saves buys
it more trials, as it would a user with a fixed GPU budget (the trial running when the budget
runs out is stopped there and counts as pruned). Saving is then about 1 for every pruner; best
final, Δbest and area compare what each found with the same compute.

**Field**: Optuna's NopPruner, MedianPruner, PercentilePruner(25), SuccessiveHalvingPruner,
HyperbandPruner, PatientPruner(MedianPruner, 2) and WilcoxonPruner, with their defaults, and
RLPruner (also with ``top_quantile=0.3``). ``--pruners`` can add :data:`ABLATIONS`: RLPruner
without its prior (learning from the study alone) and with the prior frozen (no learning).

**Tasks**: ``digits`` and ``cartpole`` were developed on; ``breast_cancer`` and ``forest`` are
held out (``forest``, a random forest on digits, was added with the prior pruning policy and
never tuned on; see ``pruning_curves.py``).

Run (default 20 seeds of 100 trials; ``--quick``: 2 seeds of 30, writes ``pruning_quick.*``)::

    python benchmarks/pruning.py                 # replay the stored pools
    python benchmarks/pruning.py --make-curves   # retrain the pools first (~8 CPU-minutes)

Outputs in ``benchmarks/results/``: ``pruning.csv`` (one row per task, pruner and seed),
``pruning.md`` (summary table, command, machine and date) and ``pruning_anytime.png``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
import csv
from dataclasses import dataclass
import datetime
import multiprocessing
import os
from pathlib import Path
import platform
import subprocess
import sys
from typing import Any
import warnings

from _cli import positive_int
import numpy as np
import optuna
from optuna.pruners import BasePruner
from optuna.pruners import HyperbandPruner
from optuna.pruners import MedianPruner
from optuna.pruners import NopPruner
from optuna.pruners import PatientPruner
from optuna.pruners import PercentilePruner
from optuna.pruners import SuccessiveHalvingPruner
from optuna.pruners import WilcoxonPruner
from optuna.samplers import RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_rl import RLPruner
from optuna_rl._pruner_study import PrunerStudy
from optuna_rl.core.agent import Transition


RESULTS = Path(__file__).resolve().parent / "results"
TASK_NAMES = ("digits", "cartpole", "breast_cancer", "forest")
HELD_OUT = ("breast_cancer", "forest")
WINNER_QUANTILE = 0.1


class FrozenRLPruner(RLPruner):
    """RLPruner whose Q-table stays the prior for the whole study (an ablation: the study's
    curves are still the reference its ranks are taken against, but teach nothing)."""

    def _new_study_cache(self, study: optuna.Study) -> PrunerStudy:
        cache = super()._new_study_cache(study)
        cache.learner.agent.update = _no_update  # type: ignore[method-assign]
        return cache


def _no_update(transition: Transition) -> Callable[[], None]:
    return _nothing


def _nothing() -> None:
    pass


PRUNERS: dict[str, Callable[[], BasePruner]] = {
    "Nop": NopPruner,
    "Median": MedianPruner,
    "Percentile(25)": lambda: PercentilePruner(25.0),
    "SuccessiveHalving": SuccessiveHalvingPruner,
    "Hyperband": HyperbandPruner,
    "Patient(Median, 2)": lambda: PatientPruner(MedianPruner(), patience=2),
    "Wilcoxon": WilcoxonPruner,
    "RLPruner": RLPruner,
    # The risk knob turned toward safety, to show the trade-off it offers.
    "RLPruner(top_quantile=0.3)": lambda: RLPruner(top_quantile=0.3),
}
ABLATIONS: dict[str, Callable[[], BasePruner]] = {
    # No prior: the policy is learned from the study's own curves alone.
    "RLPruner(no prior)": lambda: RLPruner(prior_weight=0.0),
    # The prior alone: the study's curves teach nothing.
    "RLPruner(prior frozen)": FrozenRLPruner,
}
"""Variants that separate the prior from the study's own learning (``--pruners`` runs them)."""
ALL_PRUNERS = {**PRUNERS, **ABLATIONS}


@dataclass(frozen=True)
class CurvePool:
    """Full learning curves of ``n_configs`` configurations of one task.

    Args:
        task: Task name.
        metric: What the curves measure.
        direction: ``"maximize"`` or ``"minimize"``.
        curves: ``(n_configs, horizon)`` values, column ``e - 1`` after ``e`` epochs.
        params: Hyperparameter name -> one value per configuration.
    """

    task: str
    metric: str
    direction: str
    curves: np.ndarray
    params: dict[str, np.ndarray]

    @property
    def n_configs(self) -> int:
        return int(self.curves.shape[0])

    @property
    def horizon(self) -> int:
        return int(self.curves.shape[1])

    @property
    def sign(self) -> float:
        """Multiplier that makes smaller better."""
        return 1.0 if self.direction == "minimize" else -1.0

    @property
    def finals(self) -> np.ndarray:
        return self.curves[:, -1]

    @property
    def best_final(self) -> float:
        """The best final value (diverged runs, NaN, left out)."""
        return float(self.sign * np.nanmin(self.sign * self.finals))

    @property
    def median_final(self) -> float:
        return float(np.nanmedian(self.finals))

    def winners(self, quantile: float = WINNER_QUANTILE) -> np.ndarray:
        """Configurations whose final value is within the best ``quantile`` of the pool."""
        signed = self.sign * self.finals
        return signed <= np.quantile(signed, quantile)

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {f"param_{k}": v for k, v in self.params.items()}
        arrays.update(
            task=np.array(self.task),
            metric=np.array(self.metric),
            direction=np.array(self.direction),
            curves=self.curves.astype(np.float32),
        )
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> CurvePool:
        with np.load(path, allow_pickle=False) as data:
            params = {k[len("param_") :]: data[k] for k in data.files if k.startswith("param_")}
            return cls(
                str(data["task"]),
                str(data["metric"]),
                str(data["direction"]),
                data["curves"].astype(np.float64),
                params,
            )


def pool_path(task: str) -> Path:
    return RESULTS / f"pruning_curves_{task}.npz"


@dataclass(frozen=True)
class TrialRecord:
    """What one replayed trial drew and consumed."""

    config: int
    epochs: int
    final: float | None
    """The returned value for a completed trial, ``None`` for a pruned one."""


@dataclass(frozen=True)
class RunResult:
    """One study: a pruner on a task's pool with one seed."""

    task: str
    pruner: str
    seed: int
    records: tuple[TrialRecord, ...]
    anytime: np.ndarray
    """``r(e)`` for ``e = 1..n_trials * horizon`` (see the module docstring)."""

    @property
    def epochs(self) -> int:
        return sum(r.epochs for r in self.records)

    @property
    def n_pruned(self) -> int:
        return sum(r.final is None for r in self.records)

    @property
    def area(self) -> float:
        return float(self.anytime.mean())


def replay_study(
    pool: CurvePool,
    pruner: BasePruner,
    seed: int,
    n_trials: int,
    epoch_budget: int | None = None,
) -> list[TrialRecord]:
    """Run one in-memory study that replays ``pool``'s curves under ``pruner``: ``n_trials``
    trials, or, with ``epoch_budget``, as many trials as start before that many epochs are
    spent."""
    spent = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal spent
        config = trial.suggest_int("config", 0, pool.n_configs - 1)
        curve = pool.curves[config]
        for epoch in range(1, pool.horizon + 1):
            spent += 1
            trial.report(float(curve[epoch - 1]), epoch)
            out_of_budget = epoch_budget is not None and spent >= epoch_budget
            if trial.should_prune() or (out_of_budget and epoch < pool.horizon):
                raise optuna.TrialPruned()
        return float(curve[-1])

    def stop_at_budget(study: optuna.Study, trial: FrozenTrial) -> None:
        if epoch_budget is not None and spent >= epoch_budget:
            study.stop()

    direction = StudyDirection.MINIMIZE if pool.sign > 0 else StudyDirection.MAXIMIZE
    # HyperbandPruner assigns brackets by a hash of the study name: fix it for reproducibility.
    study = optuna.create_study(
        study_name=f"pruning-replay-{pool.task}-seed{seed}",
        direction=direction,
        sampler=RandomSampler(seed=seed),
        pruner=pruner,
    )
    study.optimize(
        objective,
        n_trials=n_trials if epoch_budget is None else epoch_budget,
        catch=(),
        callbacks=[stop_at_budget],
    )
    records = []
    for trial in sorted(study.trials, key=lambda t: t.number):
        if trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            raise RuntimeError(f"trial {trial.number} ended {trial.state.name}")
        final = trial.value if trial.state == TrialState.COMPLETE else None
        records.append(
            TrialRecord(int(trial.params["config"]), len(trial.intermediate_values), final)
        )
    return records


def anytime_regret(records: Sequence[TrialRecord], pool: CurvePool, budget: int) -> np.ndarray:
    """``r(e)`` for ``e = 1..budget``: normalised regret of the best completed final value."""
    sign = pool.sign
    best = sign * pool.best_final
    scale = sign * pool.median_final - best
    regret = np.ones(budget)
    spent = 0
    incumbent = np.inf
    for record in records:
        spent += record.epochs
        if record.final is None or spent > budget:
            continue
        incumbent = min(incumbent, sign * record.final)
        value = (incumbent - best) / scale if scale > 0 else float(incumbent > best)
        regret[spent - 1 :] = np.minimum(regret[spent - 1 :], np.clip(value, 0.0, 1.0))
    return regret


def run_one(
    pool: CurvePool, pruner_name: str, seed: int, n_trials: int, equal_budget: bool = False
) -> RunResult:
    """Replay one study and compute its anytime curve over Nop's budget ``n_trials * horizon``
    epochs. With ``equal_budget`` the study runs trials until it has spent that budget (what
    a pruner saves buys more trials) instead of stopping after ``n_trials`` trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = n_trials * pool.horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        pruner = ALL_PRUNERS[pruner_name]()
        records = replay_study(
            pool, pruner, seed, n_trials, epoch_budget=budget if equal_budget else None
        )
    return RunResult(
        pool.task, pruner_name, seed, tuple(records), anytime_regret(records, pool, budget)
    )


def best_final(result: RunResult, pool: CurvePool) -> float:
    finals = [r.final for r in result.records if r.final is not None]
    if not finals:
        return float("nan")
    return float(pool.sign * min(pool.sign * f for f in finals))


def delta_best_percent(best: float, nop_best: float, pool: CurvePool) -> float:
    """Relative difference of ``best`` to Nop's, in %, positive when better than Nop."""
    return float(100.0 * -pool.sign * (best - nop_best) / abs(nop_best))


def run_rows(results: Sequence[RunResult], pools: dict[str, CurvePool]) -> list[dict[str, object]]:
    """One row per run, with the comparisons against Nop's run of the same task and seed."""
    nop = {(r.task, r.seed): r for r in results if r.pruner == "Nop"}
    rows: list[dict[str, object]] = []
    for result in results:
        pool = pools[result.task]
        reference = nop[(result.task, result.seed)]
        winners = pool.winners()
        sampled = [r for r in result.records if winners[r.config]]
        best = best_final(result, pool)
        rows.append(
            {
                "task": result.task,
                "pruner": result.pruner,
                "seed": result.seed,
                "n_trials": len(result.records),
                "epochs": result.epochs,
                "saving": reference.epochs / result.epochs,
                "n_pruned": result.n_pruned,
                "best_final": best,
                "delta_best_pct": delta_best_percent(best, best_final(reference, pool), pool),
                "area": result.area,
                "winners_sampled": len(sampled),
                "winners_pruned": sum(r.final is None for r in sampled),
            }
        )
    return rows


def summarise(rows: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    """Mean over seeds per task and pruner (area also with its standard error)."""
    keys = list(dict.fromkeys((str(r["task"]), str(r["pruner"])) for r in rows))
    summary = []
    for task, pruner in keys:
        group = [r for r in rows if r["task"] == task and r["pruner"] == pruner]

        def column(name: str, group: list[dict[str, object]] = group) -> np.ndarray:
            return np.array([float(str(r[name])) for r in group])

        area = column("area")
        winners = column("winners_sampled").sum()
        summary.append(
            {
                "task": task,
                "pruner": pruner,
                "seeds": len(group),
                "trials": column("n_trials").mean(),
                "epochs": column("epochs").mean(),
                "saving": column("saving").mean(),
                "pruned_pct": 100.0 * column("n_pruned").sum() / column("n_trials").sum(),
                "best_final": column("best_final").mean(),
                "delta_best_pct": column("delta_best_pct").mean(),
                "area": area.mean(),
                "area_se": area.std(ddof=1) / np.sqrt(len(area)) if len(area) > 1 else 0.0,
                "winners_pruned_pct": (
                    100.0 * column("winners_pruned").sum() / winners if winners else float("nan")
                ),
            }
        )
    return summary


_POOLS: dict[str, CurvePool] = {}


def _init_worker(pools: dict[str, CurvePool]) -> None:
    _POOLS.update(pools)


def _work(job: tuple[str, str, int, int, bool]) -> RunResult:
    task, pruner_name, seed, n_trials, equal_budget = job
    return run_one(_POOLS[task], pruner_name, seed, n_trials, equal_budget)


def run_all(
    pools: dict[str, CurvePool],
    pruners: Sequence[str],
    seeds: Sequence[int],
    n_trials: int,
    processes: int,
    equal_budget: bool = False,
) -> list[RunResult]:
    """Every (task, pruner, seed) study, spread over at most two processes."""
    from tqdm import tqdm

    jobs = [(t, p, s, n_trials, equal_budget) for t in pools for s in seeds for p in pruners]
    order = {job[:3]: i for i, job in enumerate(jobs)}
    results: list[RunResult] = []
    with multiprocessing.Pool(min(processes, 2), _init_worker, (pools,)) as workers:
        for result in tqdm(workers.imap_unordered(_work, jobs), total=len(jobs), desc="studies"):
            results.append(result)
    return sorted(results, key=lambda r: order[(r.task, r.pruner, r.seed)])


def machine() -> dict[str, str]:
    import torch

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "optuna_rl"], capture_output=True, text=True
    )
    revision = commit.stdout.strip() or "unknown"
    if dirty.stdout.strip():
        revision += " with uncommitted changes in optuna_rl/"
    return {
        "nproc": nproc or str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "optuna": optuna.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "revision": revision,
    }


def write_csv(rows: Sequence[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})


def write_markdown(
    summary: Sequence[dict[str, object]],
    pools: dict[str, CurvePool],
    path: Path,
    command: str,
    settings: str,
    png: Path,
) -> None:
    info = machine()
    lines = [
        "# Pruning benchmark: RLPruner against Optuna's pruners on replayed learning curves",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  ",
        f"Machine: {info['nproc']} cores, {info['cpu']}; Python {info['python']}, "
        f"Optuna {info['optuna']}, PyTorch {info['torch']}, NumPy {info['numpy']}  ",
        f"optuna-rl: commit {info['revision']}  ",
        f"Settings: {settings}",
        "",
        "Metrics are defined in the docstring of `benchmarks/pruning.py`. Saving = Nop's epochs /",
        "the pruner's; Δbest % against Nop's best final of the same seed (negative = worse);",
        "area = mean normalised regret of the best final found so far over Nop's epoch budget",
        "(0 = pool best found at once, 1 = nothing better than the pool median; smaller is",
        "better), ± its standard error over seeds. Tasks marked *held out* were not used while",
        "developing the pruner.",
        "",
        "## Curve pools",
        "",
        "Trained once by `python benchmarks/pruning.py --make-curves` (tasks, spaces and training",
        "in `benchmarks/pruning_curves.py`; one CPU thread per process) and replayed by every",
        "study; a study draws configurations with replacement.",
        "",
        "| task | metric | direction | configurations | horizon | pool best | pool median |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for pool in pools.values():
        lines.append(
            f"| {_task_label(pool.task)} | {pool.metric} | {pool.direction} | {pool.n_configs}"
            f" | {pool.horizon} | {pool.best_final:.4g} | {pool.median_final:.4g} |"
        )
    lines += [
        "",
        "## Results (mean over seeds)",
        "",
        "| task | pruner | trials | epochs | saving | pruned % | best final | Δbest % "
        "| area ± se | winners pruned % |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for task in pools:
        group = [s for s in summary if s["task"] == task]
        best_area = min(float(str(s["area"])) for s in group)
        for s in group:
            area = f"{float(str(s['area'])):.4f} ± {float(str(s['area_se'])):.4f}"
            if float(str(s["area"])) == best_area:
                area = f"**{area}**"
            lines.append(
                f"| {_task_label(task)} | {s['pruner']} | {float(str(s['trials'])):.0f}"
                f" | {float(str(s['epochs'])):.0f}"
                f" | {float(str(s['saving'])):.2f}x | {float(str(s['pruned_pct'])):.1f}"
                f" | {float(str(s['best_final'])):.4f} | {float(str(s['delta_best_pct'])):+.2f}"
                f" | {area} | {float(str(s['winners_pruned_pct'])):.1f} |"
            )
    lines += ["", f"![anytime regret]({png.name})", ""]
    path.write_text("\n".join(lines))


def _task_label(task: str) -> str:
    return f"{task} (held out)" if task in HELD_OUT else task


def plot_anytime(results: Sequence[RunResult], pools: dict[str, CurvePool], path: Path) -> None:
    """Mean anytime regret against cumulative epochs, one panel per task; a dot marks each
    pruner's mean epochs consumed, after which its curve can no longer improve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_columns = 2 if len(pools) == 4 else len(pools)
    n_rows = -(-len(pools) // n_columns)
    fig, axes = plt.subplots(
        n_rows, n_columns, figsize=(5.2 * n_columns, 4.2 * n_rows), squeeze=False
    )
    pruners = list(dict.fromkeys(r.pruner for r in results))
    for ax, (task, pool) in zip(axes.flat[: len(pools)], pools.items(), strict=True):
        for pruner in pruners:
            curves = np.array(
                [r.anytime for r in results if r.task == task and r.pruner == pruner]
            )
            epochs = np.arange(1, curves.shape[1] + 1)
            # RLPruner drawn on top, so that a variant that matches it does not hide it.
            bold = {"linewidth": 2.4, "color": "black", "zorder": 5}
            style = bold if pruner == "RLPruner" else {}
            mean = curves.mean(axis=0)
            (line,) = ax.plot(epochs, mean, label=pruner, **style)
            spent = int(
                np.mean([r.epochs for r in results if r.task == task and r.pruner == pruner])
            )
            ax.plot(spent, mean[spent - 1], "o", color=line.get_color())
        ax.set_xscale("log")
        ax.set_xlim(left=pool.horizon)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("cumulative epochs")
        ax.set_title(f"{_task_label(task)}: {pool.metric}")
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("normalised regret of best final found")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--make-curves", action="store_true", help="retrain the curve pools")
    parser.add_argument("--curves-only", action="store_true", help="stop after --make-curves")
    parser.add_argument(
        "--pool-size", type=positive_int, default=None, help="configs per pool to train"
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, 30 trials")
    parser.add_argument(
        "--seeds", type=positive_int, default=None, help="number of seeds (default 20)"
    )
    parser.add_argument("--trials", type=positive_int, default=None, help="trials per study (100)")
    parser.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), choices=TASK_NAMES)
    parser.add_argument("--pruners", nargs="+", default=list(PRUNERS), choices=list(ALL_PRUNERS))
    parser.add_argument("--processes", type=positive_int, default=2, help="at most 2")
    parser.add_argument(
        "--equal-budget",
        action="store_true",
        help="run every study until it has spent Nop's epochs (more trials for pruners that "
        "save), writing pruning_budget.* (pruning_budget_quick.* with --quick)",
    )
    parser.add_argument("--out", default=None, help="output name prefix in results/")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if "Nop" not in args.pruners:
        args.pruners = ["Nop", *args.pruners]
    RESULTS.mkdir(exist_ok=True)
    if args.make_curves:
        from pruning_curves import make_pool

        for task in args.tasks:
            make_pool(task, args.pool_size, args.processes).save(pool_path(task))
        if args.curves_only:
            return
    missing = [t for t in args.tasks if not pool_path(t).exists()]
    if missing:
        sys.exit(f"no curve pool for {missing}: run with --make-curves first")
    pools = {t: CurvePool.load(pool_path(t)) for t in args.tasks}
    n_seeds = args.seeds or (2 if args.quick else 20)
    n_trials = args.trials or (30 if args.quick else 100)
    default_prefix = "pruning_budget" if args.equal_budget else "pruning"
    prefix = args.out or (f"{default_prefix}_quick" if args.quick else default_prefix)
    results = run_all(
        pools, args.pruners, range(n_seeds), n_trials, args.processes, args.equal_budget
    )
    rows = run_rows(results, pools)
    summary = summarise(rows)
    write_csv(rows, RESULTS / f"{prefix}.csv")
    png = RESULTS / f"{prefix}_anytime.png"
    plot_anytime(results, pools, png)
    command = "python benchmarks/pruning.py " + " ".join(sys.argv[1:] if argv is None else argv)
    settings = f"{n_seeds} seeds (0..{n_seeds - 1}), {n_trials} trials per study"
    if args.equal_budget:
        settings = (
            f"{n_seeds} seeds (0..{n_seeds - 1}), equal budget: every study runs trials until "
            f"it has spent Nop's {n_trials} x horizon epochs"
        )
    write_markdown(summary, pools, RESULTS / f"{prefix}.md", command.strip(), settings, png)
    print((RESULTS / f"{prefix}.md").read_text())


if __name__ == "__main__":
    main()
