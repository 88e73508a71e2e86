"""The pruning corpus (``benchmarks/pruning_corpus.py``): its quick build, in a subprocess, in
the pruning benchmark's layout; the divergence rule; the fixed train/validation split."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
from typing import Any

import numpy as np
import pytest


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

import pruning  # noqa: E402
import pruning_corpus  # noqa: E402


EVALUATION_DATA = {"digits", "breast_cancer", "CartPole-v1"}
"""What ``pruning.py``'s tasks train on: a PyTorch MLP on the first two, REINFORCE on CartPole."""
EVALUATION_MODELS = {
    ("torch-mlp", "digits"),
    ("torch-mlp", "breast_cancer"),
    ("reinforce", "CartPole-v1"),
}


@pytest.fixture(scope="module")
def quick_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    command = [sys.executable, str(BENCHMARKS / "pruning_corpus.py"), "--quick", "--no-progress"]
    subprocess.run([*command, "--out", str(out)], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def index(quick_corpus: Path) -> dict[str, Any]:
    return json.loads((quick_corpus / "index.json").read_text())


def test_quick_corpus_has_every_task_in_the_benchmark_layout(
    quick_corpus: Path, index: dict[str, Any]
) -> None:
    assert index["format"] == pruning_corpus.INDEX_FORMAT and index["quick"] is True
    assert [e["task"] for e in index["tasks"]] == list(pruning_corpus.TASKS)
    for entry in index["tasks"]:
        task = pruning_corpus.TASKS[entry["task"]]
        with np.load(quick_corpus / entry["file"], allow_pickle=False) as data:
            assert data["curves"].dtype == np.float32
        pool = pruning.CurvePool.load(quick_corpus / entry["file"])
        horizon = min(task.curves.horizon, pruning_corpus.QUICK_HORIZON)
        assert pool.curves.shape == (pruning_corpus.QUICK_CONFIGS, horizon), entry["task"]
        assert (pool.task, pool.metric, pool.direction) == (
            task.name,
            task.curves.metric,
            task.curves.direction,
        )
        assert pool.params and all(len(v) == pool.n_configs for v in pool.params.values())
        assert entry["split"] == pruning_corpus.SPLIT[task.name]
        assert (entry["family"], entry["data"]) == (task.family, task.data)
        assert (entry["horizon"], entry["n_configs"]) == (pool.horizon, pool.n_configs)
        assert entry["cpu_seconds"] >= 0 and 0 <= entry["crossing_rate"] <= 1


def test_values_are_finite_until_a_run_diverges_then_nan_to_the_end(quick_corpus: Path) -> None:
    for pool in pruning_corpus.load_corpus(quick_corpus).values():
        curves = pool.curves
        assert not np.isinf(curves).any(), pool.task
        diverged = np.isnan(curves)
        assert (np.diff(diverged.astype(int), axis=1) >= 0).all(), pool.task
        assert np.isfinite(curves).all(axis=1).any(), f"{pool.task}: every run diverged"
        if "accuracy" in pool.metric:
            assert ((curves >= 0) & (curves <= 1))[~diverged].all(), pool.task


def test_load_corpus_selects_a_split(quick_corpus: Path) -> None:
    validation = pruning_corpus.load_corpus(quick_corpus, split="validation")
    expected = [t for t, s in pruning_corpus.SPLIT.items() if s == "validation"]
    assert sorted(validation) == sorted(expected)


def test_every_task_is_in_exactly_one_split() -> None:
    assert list(pruning_corpus.SPLIT) == list(pruning_corpus.TASKS)
    assert set(pruning_corpus.SPLIT.values()) == {"train", "validation"}
    real = [t for t in pruning_corpus.TASKS.values() if not t.parametric]
    held_out = [t for t in real if pruning_corpus.SPLIT[t.name] == "validation"]
    assert 0.25 <= len(held_out) / len(real) <= 0.3


def test_the_pruning_benchmark_tasks_are_not_in_the_corpus() -> None:
    assert not set(pruning.TASK_NAMES) & set(pruning_corpus.TASKS)
    for task in pruning_corpus.TASKS.values():
        assert (task.family, task.data) not in EVALUATION_MODELS, task.name
        if task.data in EVALUATION_DATA:
            assert pruning_corpus.SPLIT[task.name] == "validation", task.name


def test_mark_divergence_turns_the_rest_of_a_run_to_nan() -> None:
    curves = np.array(
        [
            [1.0, 2.0, 3.0, 4.0],
            [1.0, np.inf, 2.0, 3.0],
            [1.0, 2.0, 1e39, 1.0],
            [np.nan, 1.0, 1.0, 1.0],
        ]
    )
    marked = pruning_corpus.mark_divergence(curves)
    assert marked.dtype == np.float32
    expected = np.isnan(
        [[0, 0, 0, 0], [0, np.nan, np.nan, np.nan], [0, 0, np.nan, np.nan], [np.nan] * 4]
    )
    np.testing.assert_array_equal(np.isnan(marked), expected)
    np.testing.assert_array_equal(marked[0], curves[0])


def _pool(curves: np.ndarray) -> Any:
    return pruning.CurvePool("t", "loss", "minimize", curves, {"x": np.arange(len(curves))})


def test_crossing_statistics_on_parallel_and_on_crossing_curves() -> None:
    steps = np.arange(1, 9)
    level = np.linspace(0.0, 1.0, 40)
    parallel = level[:, None] + 1.0 / steps
    assert pruning_corpus.crossing_statistics(_pool(parallel)) == {
        "crossing_rate": 0.0,
        "winners_outside_top_quarter": 0.0,
    }
    # The best final value belongs to the worst early one: every winner was behind.
    crossing = level[:, None] + (1.0 - 2.0 * level)[:, None] * (steps < 4)
    statistics = pruning_corpus.crossing_statistics(_pool(crossing))
    assert statistics == {"crossing_rate": 1.0, "winners_outside_top_quarter": 1.0}
