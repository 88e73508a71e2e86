"""The corpus of learning curves a prior pruning policy is learned from, offline.

Many pools of full learning curves, one file per task, in the layout of the pruning
benchmark's pools (``pruning.CurvePool``: keys ``task``, ``metric``, ``direction``, ``curves``
(configurations x horizon, float32) and ``param_<name>``), written to
``benchmarks/results/pruning_corpus/<task>.npz``. Pools are trained by
``pruning_curves.make_pool`` (seeded: a rebuild reproduces them), in this one process.
``index.json`` lists the tasks in :data:`TASKS`'s order, each with ``task``, ``split``,
``family`` (the model or learner), ``data``, ``metric``, ``direction``, ``horizon``,
``n_configs``, ``seconds`` (wall) and ``cpu_seconds`` to build, ``diverged_configs``,
``final_best``, ``final_median`` (over finite finals), the crossing statistics below, ``file``,
and the ``command``, ``date`` and ``machine`` that built it. :func:`load_corpus` reads it back.

**Tasks.** Real training runs on data that ship with scikit-learn or Gymnasium (nothing is
downloaded; ``_corpus_training.py``): SGD linear models and multi-layer perceptrons from
scikit-learn (``partial_fit``, one epoch per step), gradient boosting (one stage per step,
from the staged predictions), PyTorch MLPs and a small CNN (one epoch per step), REINFORCE and
the cross-entropy method on classic-control tasks (one learner iteration per step). Step
sizes run from too slow to move within the horizon to diverging, so some curves stay flat,
some blow up, many cross. Parametric families add breadth (``_corpus_parametric.py``).

**Split.** :data:`SPLIT` puts each task wholly in ``train`` or ``validation``: the policy is
learned on the first and reported on the second. Four of the 14 real-training tasks are held
out, chosen so that validation has a model family (the CNN) and a learner (the cross-entropy
method) that training lacks, and only data no training task sees (digits, moons, Friedman #3,
Pendulum). The pruning benchmark's own tasks (``pruning.TASK_NAMES``: the PyTorch MLPs on
digits and breast cancer, REINFORCE on CartPole) are in neither, nor is the same model on the
same data; a task on an evaluation data set (the CNN on digits) is in ``validation``.

**Divergence.** A run that cannot report a finite value (its loss overflowed, its weights
became NaN, the library raised on an overflow) has diverged: that step and every later one
hold NaN (:func:`mark_divergence`, which also turns values beyond float32's range into NaN).
NaN appears nowhere else. A blow-up that stays finite is kept as reported (SGD regression
with a large step reaches 1e28 and may come back); a PyTorch network with NaN weights still
predicts one class, so its accuracy curve drops to that class's share instead of NaN, as a
user's objective would report.

**Crossing statistics** (in the index, per task), how hard pruning is on the pool, at step
``k = round(H / 4)`` (a quarter of the run):

- ``crossing_rate``: over 2,000 random studies of 20 configurations, how often the study's
  best final configuration was *not* in the study's top quarter at step ``k`` (more than
  a quarter of the study ranked strictly better there). A top-quarter rule at a quarter of the
  run would have pruned the winner that often.
- ``winners_outside_top_quarter``: the same for the pool's top 10 % by final value, ranked in
  the whole pool.

Diverged values rank last. Run (single process, one thread; ``--quick``: 3 configurations per
task, horizons cut to 6 steps, written to ``results/pruning_corpus_quick/``)::

    nice -n 10 python benchmarks/pruning_corpus.py            # the whole corpus
    python benchmarks/pruning_corpus.py --tasks gb_hastie    # rebuild some tasks
    python benchmarks/pruning_corpus.py --quick --out /tmp/corpus
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
import datetime
import functools
import json
from pathlib import Path
import sys
import time
from typing import Any
import warnings

import _corpus_parametric as parametric
import _corpus_training as training
from _machine import machine
import numpy as np
from pruning import RESULTS
from pruning import CurvePool
from pruning_curves import CurveTask
from pruning_curves import make_pool
from pruning_curves import train_reinforce


CORPUS_DIR = RESULTS / "pruning_corpus"
QUICK_DIR = RESULTS / "pruning_corpus_quick"
INDEX_FORMAT = 1
QUICK_CONFIGS = 3
QUICK_HORIZON = 6
EARLY_FRACTION = 0.25
KEEP_FRACTION = 0.25
STUDY_SIZE = 20
STUDY_DRAWS = 2000
WINNER_QUANTILE = 0.1


@dataclass(frozen=True)
class CorpusTask:
    """A pool of curves to train, with the model family that makes it and the data it sees."""

    curves: CurveTask
    family: str
    data: str

    @property
    def name(self) -> str:
        return self.curves.name

    @property
    def parametric(self) -> bool:
        return self.family.startswith("parametric")


def _task(
    name: str,
    metric: str,
    direction: str,
    horizon: int,
    n_configs: int,
    family: str,
    data: str,
    sample: Callable[[np.random.Generator, int], dict[str, np.ndarray]],
    train: Callable[[dict[str, Any], int, int], np.ndarray],
) -> CorpusTask:
    return CorpusTask(
        CurveTask(name, metric, direction, horizon, n_configs, sample, train), family, data
    )


_p = functools.partial
_MAX, _MIN = "maximize", "minimize"
_ACCURACY, _LOG_LOSS, _MSE = "validation accuracy", "validation log-loss", "validation MSE"
_RETURN = "mean return"

_TASKS = (
    # scikit-learn, one epoch per step
    _task("sgd_classification", _ACCURACY, _MAX, 40, 200, "sklearn-sgd", "classification",
          _p(training.sample_sgd_space, losses=training.SGD_CLASSIFIER_LOSSES, max_eta0=10.0),
          _p(training.train_sgd, data="classification")),
    _task("sgd_regression", _MSE, _MIN, 40, 200, "sklearn-sgd", "regression",
          _p(training.sample_sgd_space, losses=training.SGD_REGRESSOR_LOSSES, max_eta0=1.0),
          _p(training.train_sgd, data="regression")),
    _task("sklearn_mlp_classification", _LOG_LOSS, _MIN, 30, 200, "sklearn-mlp",
          "classification", training.sample_sklearn_mlp_space,
          _p(training.train_sklearn_mlp, data="classification")),
    _task("sklearn_mlp_friedman1", _MSE, _MIN, 30, 200, "sklearn-mlp", "friedman1",
          training.sample_sklearn_mlp_space, _p(training.train_sklearn_mlp, data="friedman1")),
    # gradient boosting, one stage per step
    _task("gb_hastie", _ACCURACY, _MAX, 50, 200, "gradient-boosting", "hastie",
          training.sample_boosting_space,
          _p(training.train_boosting, data="hastie", metric="accuracy")),
    _task("gb_diabetes", _MSE, _MIN, 50, 200, "gradient-boosting", "diabetes",
          training.sample_boosting_space,
          _p(training.train_boosting, data="diabetes", metric="mse")),
    _task("gb_moons", _LOG_LOSS, _MIN, 50, 200, "gradient-boosting", "moons",
          training.sample_boosting_space,
          _p(training.train_boosting, data="moons", metric="log_loss")),
    # PyTorch, one epoch per step
    _task("torch_mlp_wine", "validation cross-entropy", _MIN, 25, 200, "torch-mlp", "wine",
          training.sample_torch_space,
          _p(training.train_torch_mlp, data="wine", metric="cross_entropy")),
    _task("torch_mlp_hastie", _ACCURACY, _MAX, 20, 200, "torch-mlp", "hastie",
          training.sample_torch_space,
          _p(training.train_torch_mlp, data="hastie", metric="accuracy")),
    _task("torch_mlp_diabetes", _MSE, _MIN, 30, 200, "torch-mlp", "diabetes",
          training.sample_torch_space,
          _p(training.train_torch_mlp, data="diabetes", metric="mse")),
    _task("torch_mlp_friedman3", _MSE, _MIN, 30, 200, "torch-mlp", "friedman3",
          training.sample_torch_space,
          _p(training.train_torch_mlp, data="friedman3", metric="mse")),
    _task("cnn_digits", _ACCURACY, _MAX, 15, 150, "torch-cnn", "digits",
          training.sample_cnn_space, training.train_cnn_digits),
    # Gymnasium classic control, one learner iteration per step
    _task("acrobot_reinforce", _RETURN, _MAX, 20, 200, "reinforce", "Acrobot-v1",
          training.sample_acrobot_space, _p(train_reinforce, env_id="Acrobot-v1")),
    _task("pendulum_cem", _RETURN, _MAX, 20, 150, "cem", "Pendulum-v1",
          training.sample_cem_space, _p(training.train_cem, env_id="Pendulum-v1", starts=2)),
    # parametric families
    _task("parametric_power_law", "synthetic loss", _MIN, 50, 300, "parametric-power-law",
          "synthetic", parametric.sample_power_law, parametric.curve_power_law),
    _task("parametric_saturation", "synthetic accuracy", _MAX, 20, 300,
          "parametric-saturation", "synthetic", parametric.sample_saturation,
          parametric.curve_saturation),
    _task("parametric_late_bloomers", "synthetic accuracy", _MAX, 40, 300,
          "parametric-late-bloomers", "synthetic", parametric.sample_late_bloomers,
          parametric.curve_late_bloomers),
    _task("parametric_lr_sweep", "synthetic loss", _MIN, 25, 300, "parametric-lr-sweep",
          "synthetic", parametric.sample_lr_sweep, parametric.curve_lr_sweep),
    _task("parametric_diverging", "synthetic loss", _MIN, 30, 300, "parametric-diverging",
          "synthetic", parametric.sample_diverging, parametric.curve_diverging),
    _task("parametric_noisy_plateau", "synthetic accuracy", _MAX, 10, 300,
          "parametric-noisy-plateau", "synthetic", parametric.sample_noisy_plateau,
          parametric.curve_noisy_plateau),
)  # fmt: skip
TASKS: dict[str, CorpusTask] = {task.name: task for task in _TASKS}

SPLIT: dict[str, str] = {
    "sgd_classification": "train",
    "sgd_regression": "train",
    "sklearn_mlp_classification": "train",
    "sklearn_mlp_friedman1": "train",
    "gb_hastie": "train",
    "gb_diabetes": "train",
    "gb_moons": "validation",
    "torch_mlp_wine": "train",
    "torch_mlp_hastie": "train",
    "torch_mlp_diabetes": "train",
    "torch_mlp_friedman3": "validation",
    "cnn_digits": "validation",
    "acrobot_reinforce": "train",
    "pendulum_cem": "validation",
    "parametric_power_law": "train",
    "parametric_saturation": "train",
    "parametric_late_bloomers": "train",
    "parametric_lr_sweep": "train",
    "parametric_diverging": "train",
    "parametric_noisy_plateau": "train",
}
"""Task -> ``"train"`` or ``"validation"``; fixed, so results on validation stay comparable."""


def mark_divergence(curves: np.ndarray) -> np.ndarray:
    """``curves`` as float32, with each run's first non-finite value (NaN, infinite, or beyond
    float32's range) and every value after it set to NaN."""
    with np.errstate(over="ignore"):
        stored = np.asarray(curves, dtype=np.float32).copy()
    diverged = np.logical_or.accumulate(~np.isfinite(stored), axis=1)
    stored[diverged] = np.nan
    return stored


def _signed(pool: CurvePool) -> np.ndarray:
    """Curves with smaller better and diverged values last (``inf``)."""
    signed = pool.sign * pool.curves
    return np.where(np.isnan(signed), np.inf, signed)


def crossing_statistics(pool: CurvePool, seed: int = 0) -> dict[str, float]:
    """``crossing_rate`` and ``winners_outside_top_quarter`` (see the module docstring)."""
    signed = _signed(pool)
    early, final = signed[:, max(1, round(EARLY_FRACTION * pool.horizon)) - 1], signed[:, -1]
    size = min(STUDY_SIZE, pool.n_configs)
    rng = np.random.default_rng(seed)
    studies = rng.random((STUDY_DRAWS, pool.n_configs)).argsort(axis=1)[:, :size]
    winner = studies[np.arange(STUDY_DRAWS), final[studies].argmin(axis=1)]
    ahead = (early[studies] < early[winner][:, None]).sum(axis=1)
    winners = np.flatnonzero(np.isfinite(final) & (final <= np.quantile(final, WINNER_QUANTILE)))
    ahead_in_pool = (early[None, :] < early[winners][:, None]).sum(axis=1)
    return {
        "crossing_rate": float(np.mean(ahead >= KEEP_FRACTION * size)),
        "winners_outside_top_quarter": float(
            np.mean(ahead_in_pool >= KEEP_FRACTION * pool.n_configs)
        ),
    }


def build(task: CorpusTask, quick: bool, progress: bool) -> tuple[CurvePool, dict[str, Any]]:
    """Train ``task``'s pool and describe it for the index."""
    curve_task = task.curves
    if quick:
        curve_task = dataclasses.replace(
            curve_task, horizon=min(curve_task.horizon, QUICK_HORIZON)
        )
    wall, cpu = time.perf_counter(), time.process_time()
    # Diverging runs are part of the corpus: their overflow and convergence warnings are not news.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        pool = make_pool(curve_task, QUICK_CONFIGS if quick else None, 1, progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pool = dataclasses.replace(pool, curves=mark_divergence(pool.curves).astype(np.float64))
    finals = pool.finals[np.isfinite(pool.finals)]
    best = float(pool.sign * np.min(pool.sign * finals)) if finals.size else None
    median = float(np.median(finals)) if finals.size else None
    entry = {
        "task": task.name,
        "split": SPLIT[task.name],
        "family": task.family,
        "data": task.data,
        "metric": pool.metric,
        "direction": pool.direction,
        "horizon": pool.horizon,
        "n_configs": pool.n_configs,
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "diverged_configs": int(np.isnan(pool.curves).any(axis=1).sum()),
        "final_best": best,
        "final_median": median,
        **{k: round(v, 3) for k, v in crossing_statistics(pool).items()},
        "file": f"{task.name}.npz",
    }
    return pool, entry


def load_corpus(directory: Path = CORPUS_DIR, split: str | None = None) -> dict[str, CurvePool]:
    """The corpus's pools by task, all or those of one ``split``, in the index's order."""
    index = json.loads((directory / "index.json").read_text())
    return {
        entry["task"]: CurvePool.load(directory / entry["file"])
        for entry in index["tasks"]
        if split is None or entry["split"] == split
    }


def _write_index(directory: Path, entries: list[dict[str, Any]], quick: bool) -> None:
    """Write ``index.json``, keeping the entries of tasks built earlier into ``directory``
    (same mode, file still there) that this run did not rebuild."""
    path = directory / "index.json"
    previous: dict[str, Any] = {"tasks": [], "quick": quick}
    if path.exists():
        previous = json.loads(path.read_text())
    built = {e["task"] for e in entries}
    kept = [
        e
        for e in previous["tasks"]
        if previous.get("quick") == quick
        and e["task"] in TASKS
        and e["task"] not in built
        and (directory / e["file"]).exists()
    ]
    order = list(TASKS)
    tasks = sorted(kept + entries, key=lambda e: order.index(e["task"]))
    index = {"format": INDEX_FORMAT, "quick": quick, "tasks": tasks}
    path.write_text(json.dumps(index, indent=1) + "\n")


def _summary(entries: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| task | split | family | direction | H | configs | diverged | crossing"
        " | winners out | cpu s |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in entries:
        lines.append(
            f"| {e['task']} | {e['split']} | {e['family']} | {e['direction']} | {e['horizon']}"
            f" | {e['n_configs']} | {e['diverged_configs']} | {e['crossing_rate']:.2f}"
            f" | {e['winners_outside_top_quarter']:.2f} | {e['cpu_seconds']:.0f} |"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny corpus, for tests")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from _common import limit_threads

    args = parse_args(argv)
    limit_threads()
    out = args.out or (QUICK_DIR if args.quick else CORPUS_DIR)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/pruning_corpus.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    built = {"command": command.strip(), "machine": machine()}
    entries = []
    for name in args.tasks:
        pool, entry = build(TASKS[name], args.quick, not args.no_progress)
        pool.save(out / entry["file"])
        entry["date"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        entries.append({**entry, **built})
    _write_index(out, entries, args.quick)
    print(_summary(entries))
    print(f"{sum(e['cpu_seconds'] for e in entries):.0f} CPU-seconds; wrote {out}")


if __name__ == "__main__":
    main()
