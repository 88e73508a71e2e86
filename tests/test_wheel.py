"""The wheel users install works on its own: built from the sdist, installed into a fresh venv.

The test builds the sdist and, from it, the wheel (``python -m build``, as ``.ci/run`` does, but
without build isolation so that nothing is downloaded), installs the wheel with ``--no-deps``
into a new venv, and runs a short study there with RLSampler and RLPruner. The new venv gets its
dependencies (optuna, numpy, scipy, ...) from this environment's site-packages through a
``.pth`` file: a path listed in a ``.pth`` file is added to ``sys.path`` after the venv's own
site-packages, and the ``.pth`` files inside it (this environment's editable install of
optuna-rl) are not run. The study runs with ``python -I`` from a temporary folder, so neither
the current folder nor ``PYTHONPATH`` can bring the source tree in; the script checks that
``optuna_rl`` was imported from the new venv.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import subprocess
import sys
import sysconfig
import zipfile

import pytest


ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "optuna_rl"

STUDY_SCRIPT = """
import importlib.metadata
import importlib.resources
import json

import optuna

import optuna_rl
from optuna_rl import RLPruner
from optuna_rl import RLSampler
import optuna_rl.dashboard
import optuna_rl.visualization

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(trial):
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 8)
    for step in range(8):
        value = (x - 1.0) ** 2 + (n - 3) ** 2 + 4.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


study = optuna.create_study(
    sampler=RLSampler(seed=0, n_startup_trials=5), pruner=RLPruner(n_startup_trials=3)
)
study.optimize(objective, n_trials=25)
data = importlib.resources.files("optuna_rl") / "data"
print(json.dumps({
    "file": optuna_rl.__file__,
    "version": optuna_rl.__version__,
    "dist_version": importlib.metadata.version("optuna-rl"),
    "data_files": sorted(p.name for p in data.iterdir()),
    "n_trials": len(study.trials),
    "n_sampler_notes": sum("rl_sampler" in t.user_attrs for t in study.trials),
    "n_pruner_notes": sum("rl_pruner" in t.user_attrs for t in study.trials),
    "best_value": study.best_value,
}))
"""


def source_version() -> str:
    """The one source of the version: the literal ``__version__`` line of the package."""
    text = (SOURCE / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, flags=re.MULTILINE)
    assert match, "optuna_rl/__init__.py must keep a literal __version__ line (pyproject reads it)"
    return match.group(1)


def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command without ``PYTHONPATH``, which could show pip or Python the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=180, cwd=cwd, env=env, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a fresh sdist of the work tree."""
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)])
    (wheel,) = dist.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def venv_python(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a new venv holding only the wheel, with this environment's dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(built)])
    query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(run([str(python), "-c", query]).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "_optuna_rl_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def test_wheel_holds_every_module_the_typing_marker_and_the_data(built: Path) -> None:
    version = source_version()
    assert built.name == f"optuna_rl-{version}-py3-none-any.whl"
    with zipfile.ZipFile(built) as wheel:
        names = set(wheel.namelist())
    assert "optuna_rl/py.typed" in names
    data = {p.relative_to(ROOT).as_posix() for p in (SOURCE / "data").glob("*.json")}
    assert data and data <= names
    # Every module of the source tree, subpackages included, and nothing else (no stale copy).
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in SOURCE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert {n for n in names if n.endswith(".py")} == modules


def test_installed_wheel_runs_a_study_without_the_source_tree(
    venv_python: Path, tmp_path: Path
) -> None:
    result = run([str(venv_python), "-I", "-c", STUDY_SCRIPT], cwd=tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])

    venv = venv_python.parent.parent
    assert Path(report["file"]).resolve().is_relative_to(venv.resolve()), report["file"]
    assert not Path(report["file"]).resolve().is_relative_to(ROOT)
    assert report["version"] == report["dist_version"] == source_version()
    assert report["data_files"] == sorted(p.name for p in (SOURCE / "data").glob("*.json"))
    assert report["n_trials"] == 25
    assert report["n_sampler_notes"] >= 20
    assert report["n_pruner_notes"] > 0
