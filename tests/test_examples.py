"""The examples a user copies are run with a tiny budget in a subprocess, so they keep working."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from optuna_dashboard import get_note
import pytest

from optuna_rl import _attrs


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def option_help(help_text: str) -> dict[str, str]:
    """Each option's help text in an argparse ``--help`` output, by its longest name."""
    options: dict[str, str] = {}
    name = None
    for line in help_text.split("\noptions:\n", 1)[1].splitlines():
        if not line.strip():
            break
        if line.startswith("  -"):
            invocation, _, text = line.strip().partition("  ")
            name = max(invocation.split(", "), key=len).split()[0]
            options[name] = text.strip()
        elif line.startswith("   ") and name is not None:
            # The help text wraps, or starts on the next line after a long invocation.
            options[name] = f"{options[name]} {line.strip()}".strip()
    return options


def agent_moves(study: optuna.Study) -> list[int]:
    """Numbers of the trials whose move the agent chose (not start-up, not another sampler)."""
    return [
        t.number
        for t in study.trials
        if t.system_attrs.get(_attrs.DECISION_KEY, {}).get("a", -1) >= 0
    ]


def test_quickstart_runs_on_sqlite_and_prints_dashboard_command(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'quickstart.db'}"
    stdout = run_example(
        "quickstart.py", tmp_path, "--n-trials", "12", "--epochs", "4", "--storage", storage
    )
    assert f"optuna-dashboard {storage}" in stdout
    study = optuna.load_study(study_name="digits-mlp", storage=storage)
    assert len(study.trials) == 12
    assert study.best_value > 0.5
    # Trial 0 has no search space yet; every later trial records the sampler's decision.
    assert all("rl_sampler" in t.user_attrs for t in study.trials[1:])
    # RLPruner checks every report once 5 trials have completed, and says why.
    assert any(t.user_attrs.get("rl_pruner", "").startswith("step ") for t in study.trials)
    # The example writes the final policy into the study's note for optuna-dashboard.
    assert agent_moves(study)
    assert _attrs.NOTE_BEGIN in get_note(study)


def test_cartpole_reinforce_reports_returns_per_update(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'cartpole.db'}"
    stdout = run_example(
        "cartpole_reinforce.py",
        tmp_path,
        "--n-trials",
        "3",
        "--episodes",
        "6",
        "--storage",
        storage,
    )
    assert f"optuna-dashboard {storage}" in stdout
    study = optuna.load_study(study_name="cartpole-reinforce", storage=storage)
    # RLPruner may stop a trial from the second on (its prior prunes after one completed trial).
    assert study.trials[0].state == TrialState.COMPLETE
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    assert len(study.trials) == 3
    for trial in study.trials:
        per_update = trial.params["episodes_per_update"]
        steps = sorted(trial.intermediate_values)
        # One report per update, at the number of episodes played so far; the last update may
        # be short so that every trial plays the same number of episodes.
        assert steps == [min(6, per_update * (i + 1)) for i in range(len(steps))]
        # CartPole-v1 pays 1 per step and ends after 500 steps at most.
        assert all(1 <= v <= 500 for v in trial.intermediate_values.values())
        if trial.state == TrialState.COMPLETE:
            assert steps[-1] == 6
            assert trial.value is not None and 1 <= trial.value <= 500
    assert all("rl_sampler" in t.user_attrs for t in study.trials[1:])


def test_existing_study_continues_tpe_history_with_the_agent(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'existing.db'}"
    stdout = run_example(
        "existing_study.py",
        tmp_path,
        *("--n-history", "12", "--n-trials", "3", "--epochs", "1", "--storage", storage),
    )
    assert "History trials (TPESampler): 12" in stdout
    # 12 completed TPE trials exceed RLSampler's 10 start-up trials: the agent acts at once.
    assert "Agent trials (RLSampler): 3" in stdout
    study = optuna.load_study(study_name="digits-tpe-then-rl", storage=storage)
    assert len(study.trials) == 15
    assert agent_moves(study) == [12, 13, 14]
    assert all("rl_sampler" not in t.user_attrs for t in study.trials[:12])


def test_multi_worker_shares_a_journal_file_between_two_processes(tmp_path: Path) -> None:
    journal = tmp_path / "study.journal"
    stdout = run_example(
        "multi_worker.py",
        tmp_path,
        *("--n-workers", "2", "--n-trials", "4", "--epochs", "1", "--journal-file", str(journal)),
    )
    assert "worker 0 (" in stdout and "worker 1 (" in stdout
    assert f"optuna-dashboard {journal}" in stdout
    study = optuna.load_study(
        study_name="digits-multi-worker", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    # Every trial ran to its end or was stopped by RLPruner; none was lost or failed.
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert completed and all(t.value is not None and 0.0 <= t.value <= 1.0 for t in completed)


def test_dask_workers_run_one_study_on_a_local_cluster(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'dask.db'}"
    stdout = run_example(
        "dask_workers.py",
        tmp_path,
        *("--n-workers", "2", "--n-trials", "6", "--epochs", "1", "--storage", storage),
    )
    assert "Dask workers: 2, trials: 6" in stdout
    study = optuna.load_study(study_name="digits-dask", storage=storage)
    assert sorted(t.number for t in study.trials) == list(range(6))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    # Every trial says who chose its parameters.
    assert all("rl_sampler" in t.user_attrs for t in study.trials)


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_help_describes_the_example_and_every_option_with_its_default(
    name: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        # Wide enough that argparse wraps little; the parsing below copes with wrapping anyway.
        env={**os.environ, "COLUMNS": "150"},
    )
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.iterdir()), "--help must not run the example"
    docstring = (EXAMPLES / name).read_text().split('"""')[1]
    summary = " ".join(docstring.split("\n\n")[0].split())
    assert summary in " ".join(result.stdout.split())
    options = option_help(result.stdout)
    assert "--help" in options and "--n-trials" in options
    for option, text in options.items():
        if option == "--help":
            continue
        assert text, f"{name} {option} has no help text"
        assert "(default: " in text, f"{name} {option} does not show its default"
