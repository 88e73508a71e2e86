"""Screenshots of a study in optuna-dashboard and of optuna_rl.visualization's figures, for the
README.

By default the study is made afresh by ``examples/quickstart.py`` (RLSampler and RLPruner on a
PyTorch network) in a temporary SQLite file; ``--storage`` and ``--study-name`` take an existing
one instead. The script serves the study with optuna-dashboard on a free port of 127.0.0.1, loads
its pages in headless Chromium and writes PNG files to ``docs/images/``; it also runs RLSampler on
a constrained two-objective problem and shows that study's Pareto-front view::

    python scripts/screenshots.py                      # about a minute on 2 CPU cores
    python scripts/screenshots.py --storage sqlite:///cartpole.db --study-name cartpole-reinforce

Needs the ``dashboard`` and ``examples`` extras and a Chromium browser (``apt-get install
chromium``). Each PNG is kept under 300 KB (reduced to a 256-colour palette with Pillow if
needed).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
import json
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any
import urllib.error
import urllib.request

import optuna
from optuna.trial import TrialState

from optuna_rl import RLSampler
from optuna_rl.visualization import plot_action_use
from optuna_rl.visualization import plot_pruning_decisions
from optuna_rl.visualization import plot_q_table
from optuna_rl.visualization import plot_step_size


ROOT = Path(__file__).resolve().parent.parent
MAX_PNG_BYTES = 300_000
WINDOW = (1400, 900)
FIGURE_SIZE = (1000, 600)
PAGES = {
    # file name: (path under /dashboard/studies/<id>, window size); "{trial}" is filled in
    "dashboard_study.png": ("", WINDOW),
    "dashboard_trial.png": ("/trials?numbers={trial}", (1400, 1000)),
    "dashboard_note.png": ("/note", (1400, 1300)),
}
FIGURES = {
    "plot_q_table.png": plot_q_table,
    "plot_action_use.png": plot_action_use,
    "plot_step_size.png": plot_step_size,
    "plot_pruning_decisions.png": plot_pruning_decisions,
}


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("Chromium is needed for the screenshots: apt-get install chromium")


def screenshot(chromium: str, url: str, out: Path, size: tuple[int, int]) -> None:
    """Load ``url`` in a fresh headless Chromium profile and save the window as a PNG."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            f"--screenshot={out}",
            f"--window-size={size[0]},{size[1]}",
            url,
        ]
        subprocess.run(command, capture_output=True, timeout=120, check=True)
    shrink(out)
    print(f"{shown_path(out)}: {out.stat().st_size // 1000} KB", flush=True)


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (short messages), else as
    given: ``--out`` may name any folder."""
    resolved = path.resolve()
    if resolved.is_relative_to(ROOT):
        return str(resolved.relative_to(ROOT))
    return str(path)


def shrink(path: Path) -> None:
    """Keep a PNG under MAX_PNG_BYTES by reducing it to a palette (screenshots of flat UI
    colours lose nothing visible)."""
    if path.stat().st_size <= MAX_PNG_BYTES:
        return
    try:
        from PIL import Image
    except ImportError:
        print(f"warning: {path.name} is over {MAX_PNG_BYTES} bytes and Pillow is missing")
        return
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def serve(storage: str) -> Iterator[str]:
    """Run optuna-dashboard on ``storage``; yields its base URL once it answers."""
    port = free_port()
    executable = Path(sys.executable).with_name("optuna-dashboard")
    command = [str(executable) if executable.exists() else "optuna-dashboard", storage]
    command += ["--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                sys.exit(f"optuna-dashboard exited with code {server.returncode}")
            try:
                get_json(f"{base}/api/studies")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    sys.exit("optuna-dashboard did not answer within 60 s")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def showcase_trial(study: optuna.Study) -> int:
    """A trial that shows both agents at work: the newest one pruned by RLPruner whose move the
    sampler's agent chose, else the best trial."""
    for trial in reversed(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))):
        action = trial.user_attrs.get("rl_sampler", "startup").split()[0]
        if action != "startup" and "rl_pruner" in trial.user_attrs:
            return trial.number
    return study.best_trial.number


def make_demo_study(workdir: Path, n_trials: int) -> tuple[str, str]:
    storage = f"sqlite:///{workdir / 'quickstart.db'}"
    command = [sys.executable, str(ROOT / "examples" / "quickstart.py")]
    command += ["--n-trials", str(n_trials), "--storage", storage]
    print("running", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr)
    return storage, "digits-mlp"


def make_pareto_study(storage: str) -> None:
    """RLSampler on a constrained two-objective problem (ZDT1-like, 5 parameters)."""

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(5)]
        g = 1.0 + 9.0 * sum(x[1:]) / 4.0
        trial.set_constraint("x0_at_least_0.1", 0.1 - x[0])
        return x[0], g * (1.0 - (x[0] / g) ** 0.5)

    study = optuna.create_study(
        study_name="pareto-demo",
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=RLSampler(seed=0),
    )
    study.optimize(objective, n_trials=80)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written (it has command lines), and each option's default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument(
        "--storage", help="an existing study's storage URL; without it, a new demo study"
    )
    parser.add_argument("--study-name", help="with --storage: the study to show")
    parser.add_argument("--n-trials", type=int, default=50, help="trials of the demo study")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "images",
        help="folder for the PNG files, created if missing; may be outside the repository",
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    chromium = find_chromium()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.storage:
            storage, study_name = args.storage, args.study_name
        else:
            storage, study_name = make_demo_study(workdir, args.n_trials)
        study = optuna.load_study(study_name=study_name, storage=storage)

        for name, plot in FIGURES.items():
            figure = plot(study)
            figure.update_layout(width=FIGURE_SIZE[0], height=FIGURE_SIZE[1])
            html = workdir / f"{name}.html"
            figure.write_html(html, include_plotlyjs=True, config={"displayModeBar": False})
            screenshot(chromium, html.as_uri(), args.out / name, FIGURE_SIZE)

        with serve(storage) as base:
            summaries = get_json(f"{base}/api/studies")["study_summaries"]
            (study_id,) = [s["study_id"] for s in summaries if s["study_name"] == study.study_name]
            trial = showcase_trial(study)
            for name, (path, size) in PAGES.items():
                url = f"{base}/dashboard/studies/{study_id}{path.format(trial=trial)}"
                screenshot(chromium, url, args.out / name, size)

        # A constrained two-objective study, for the dashboard's Pareto-front view.
        pareto_storage = f"sqlite:///{workdir / 'pareto.db'}"
        make_pareto_study(pareto_storage)
        with serve(pareto_storage) as base:
            (summary,) = get_json(f"{base}/api/studies")["study_summaries"]
            url = f"{base}/dashboard/studies/{summary['study_id']}"
            screenshot(chromium, url, args.out / "dashboard_pareto.png", (1400, 900))


if __name__ == "__main__":
    main()
