"""The ``dashboard`` extra brings kaleido, so ``fig.write_image`` writes the package's figures as
PNG files.

kaleido>=1 (the only kaleido plotly>=6.1 uses) drives a Chrome or Chromium browser that it looks
for at run time; where there is none the test skips, saying how to install Debian's.
"""

from __future__ import annotations

from pathlib import Path
import re

from choreographer.browsers.chromium import Chromium
from kaleido.errors import JavascriptError
import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl.visualization import plot_step_size


PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_dashboard_extra_requires_kaleido_1_and_a_plotly_that_uses_it() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    dashboard = project["optional-dependencies"]["dashboard"]
    # plotly>=6.1 exports with kaleido>=1 only (7 refuses kaleido 0.2), older plotly with 0.2 only.
    assert any(re.fullmatch(r"kaleido>=1(\.\d+)*", spec) for spec in dashboard), dashboard
    assert any(re.fullmatch(r"plotly>=6\.([1-9]\d*)(\.\d+)*", spec) for spec in dashboard)


def test_write_image_writes_a_png_of_a_figure(tmp_path: Path) -> None:
    # The same search kaleido makes (its downloaded Chrome, then the usual names on PATH).
    if Chromium.find_browser(skip_local=False) is None:
        pytest.skip(
            "fig.write_image needs a Chrome or Chromium browser: apt-get install -y chromium"
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(lambda trial: trial.suggest_float("x", -5.0, 5.0) ** 2, n_trials=15)
    path = tmp_path / "step_size.png"
    figure = plot_step_size(study)
    try:
        figure.write_image(path, width=400, height=300)
    except JavascriptError:
        # kaleido 1 can take the JavaScript context of the blank page that precedes its own
        # (a race seen here only on a loaded machine: "kaleido_scopes is not defined"); a second
        # export starts a fresh tab.
        figure.write_image(path, width=400, height=300)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    # The IHDR chunk right after the signature holds the width and height.
    assert int.from_bytes(data[16:20], "big") == 400
    assert int.from_bytes(data[20:24], "big") == 300
