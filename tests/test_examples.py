"""The examples a user copies are run with a tiny budget in a subprocess, so they keep working."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import optuna


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_runs_on_sqlite_and_prints_dashboard_command(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'quickstart.db'}"
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "quickstart.py"),
            "--n-trials",
            "12",
            "--storage",
            storage,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"optuna-dashboard {storage}" in result.stdout
    study = optuna.load_study(study_name="digits-mlp", storage=storage)
    assert len(study.trials) == 12
    assert study.best_value > 0.5
    # Trial 0 has no search space yet; every later trial records the sampler's decision.
    assert all("rl_action" in t.user_attrs for t in study.trials[1:])
