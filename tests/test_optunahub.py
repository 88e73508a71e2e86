"""The OptunaHub package in ``package/samplers/rl_sampler`` loads offline and samples a study."""

from __future__ import annotations

from pathlib import Path
import socket
import subprocess
import sys

import optuna
import optunahub
import pytest
import yaml

import optuna_rl


REGISTRY_ROOT = Path(__file__).resolve().parent.parent / "package"
PACKAGE = "samplers/rl_sampler"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a network connection: loading a local package needs none."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access while loading a local OptunaHub package")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_local_package_exposes_the_installed_sampler_and_runs_a_study(no_network: None) -> None:
    module = optunahub.load_local_module(package=PACKAGE, registry_root=str(REGISTRY_ROOT))
    assert module.RLSampler is optuna_rl.RLSampler
    assert module.__all__ == ["RLSampler"]

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        n = trial.suggest_int("n", 1, 10)
        return (x - 1) ** 2 + (n - 3) ** 2

    study = optuna.create_study(sampler=module.RLSampler(seed=0, n_startup_trials=5))
    study.optimize(objective, n_trials=15)
    assert len(study.trials) == 15
    # After the start-up design the agent chooses the moves, and says so on each trial.
    assert all("rl_sampler" in t.user_attrs for t in study.trials[5:])


def test_readme_has_optunahub_front_matter() -> None:
    text = (REGISTRY_ROOT / PACKAGE / "README.md").read_text()
    _, front_matter, body = text.split("---\n", 2)
    fields = yaml.safe_load(front_matter)
    assert set(fields) == {"author", "title", "description", "tags", "optuna_versions", "license"}
    # OptunaHub requires the tag of the package's category.
    assert "sampler" in fields["tags"]
    assert all(isinstance(v, str) for v in fields["optuna_versions"])
    assert fields["license"] == "MIT License"
    assert "## Example" in body
    assert (REGISTRY_ROOT / PACKAGE / "LICENSE").read_text().startswith("MIT License")


def test_example_runs_with_a_tiny_budget(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REGISTRY_ROOT / PACKAGE / "example.py"), "--n-trials", "12"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("best value ")
