"""Project metadata and the working tree: the MIT LICENSE the metadata names, the project URLs,
and git ignoring what the examples write where they run."""

from __future__ import annotations

import ast
from pathlib import Path
import shutil
import subprocess
from typing import Any
import warnings

import pytest


ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
REPOSITORY_URL = "https://github.com/optuna-rl/optuna-rl"


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib")
    return dict(tomllib.loads(PYPROJECT.read_text())["project"])


def test_license_metadata_names_the_mit_license_file(project: dict[str, Any]) -> None:
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The optuna-rl developers\n")
    assert "Permission is hereby granted, free of charge, to any person" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_project_urls_point_at_the_repository_and_its_paths(project: dict[str, Any]) -> None:
    urls = project["urls"]
    assert set(urls) == {"Homepage", "Repository", "Documentation", "Changelog"}
    assert urls["Homepage"] == urls["Repository"] == REPOSITORY_URL
    for name, kind, path in [
        ("Documentation", "tree", "docs"),
        ("Changelog", "blob", "CHANGELOG.md"),
    ]:
        assert urls[name] == f"{REPOSITORY_URL}/{kind}/main/{path}"
        assert (ROOT / path).exists(), f"{name} points at {path}, which is missing"


def test_installed_setuptools_accepts_the_project_table() -> None:
    # The SPDX form (setuptools 77 and later), read without a deprecation warning: the table
    # form `license = { file = ... }` is deprecated and unsupported after 2027-02-18.
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = pyprojecttoml.read_configuration(PYPROJECT, expand=False)
    assert config["project"]["license"] == "MIT"


def example_outputs() -> list[str]:
    """Files the examples write in the folder they run in, with their default options."""
    outputs = []
    for example in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.parse(example.read_text()).body:
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)):
                continue
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            value = node.value.value
            if "STORAGE" in names and value.startswith("sqlite:///"):
                database = value.removeprefix("sqlite:///")
                outputs += [database, f"{database}-journal"]
            if "JOURNAL_FILE" in names:
                # Optuna's journal file lock is a file beside it.
                outputs += [value, f"{value}.lock"]
    return outputs


def test_git_ignores_what_the_examples_write() -> None:
    git = shutil.which("git")
    inside = git and subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, check=False
    )
    if not inside or inside.returncode != 0:
        pytest.skip("not a git work tree")
    assert git is not None
    outputs = example_outputs()
    assert {"quickstart.db", "cartpole.db", "existing_study.db", "multi_worker.journal"} <= set(
        outputs
    )
    # From the repository root (as the README runs them) and from examples/.
    paths = outputs + [f"examples/{name}" for name in outputs]
    result = subprocess.run(
        [git, "check-ignore", "--no-index", "--verbose", "--non-matching", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    not_ignored = [
        line.split("\t")[1] for line in result.stdout.splitlines() if line.startswith("::")
    ]
    assert not not_ignored, f"not in .gitignore: {not_ignored}"
    assert len(result.stdout.splitlines()) == len(paths)
