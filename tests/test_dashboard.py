"""optuna-dashboard shows what the agents did: their user attrs and the policy note."""

from __future__ import annotations

from collections.abc import Iterator
import json
import logging
import os
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request

import numpy as np
import optuna
from optuna.pruners import NopPruner
from optuna.trial import TrialState
import optuna_dashboard
import pytest

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl import _attrs
from optuna_rl import dashboard
from optuna_rl._trials import recorded_decision
from optuna_rl.core.agent import Agent
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.state import N_STATES
from optuna_rl.sampling.state import describe_state


USER_ATTRS = {"rl_sampler", "rl_pruner"}


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 0, 10)
    value = 0.0
    for step in range(6):
        value = (x - 1.0) ** 2 + (n - 3) ** 2 + 4.0 / (step + 1)
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def note_version(study: optuna.Study) -> int:
    return int(study._storage.get_study_system_attrs(study._study_id).get("dashboard:note_ver", 0))


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield


# --- The note -------------------------------------------------------------------------------


def test_policy_markdown_gives_the_greedy_available_move_of_each_state() -> None:
    agent = Agent(N_STATES, len(ACTIONS), learning_rate=0.5, discount=0.0)
    agent.q[:, 0] = 0.1
    agent.q[3, 1], agent.visits[3, 1] = 0.4, 2
    agent.q[3, 2], agent.visits[3, 2] = -0.2, 1
    agent.q[7, 2], agent.visits[7, 2] = 0.3, 5
    text = dashboard.policy_markdown(agent)
    lines = text.splitlines()
    assert lines[0] == _attrs.NOTE_BEGIN and lines[-1] == _attrs.NOTE_END
    rows = [line for line in lines if line.startswith(("| improving", "| stalling", "| stag"))]
    assert len(rows) == N_STATES
    assert f"| {describe_state(3)} | 3 | {ACTIONS[1].name} | 0.400 | 2 |" in rows
    assert f"| {describe_state(7)} | 5 | {ACTIONS[2].name} | 0.300 | 5 |" in rows
    assert f"| {describe_state(0)} | 0 | {ACTIONS[0].name} | 0.100 | 0 |" in rows
    assert f"| {ACTIONS[2].name} | 6 | 75% |" in lines
    assert f"| {ACTIONS[1].name} | 2 | 25% |" in lines
    assert "after 8 of its moves" in text
    assert len(text) < 2 * 2045  # At most two storage chunks of optuna-dashboard's note.
    # A move the search space does not allow is never the greedy one.
    available = np.ones(len(ACTIONS), dtype=bool)
    available[1] = False
    restricted = dashboard.policy_markdown(agent, available)
    assert f"| {describe_state(3)} | 3 | {ACTIONS[0].name} | 0.100 | 0 |" in restricted


def test_available_moves_follow_the_search_space() -> None:
    numeric = optuna.create_study()
    numeric.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 0, 3), n_trials=1)
    mixed = optuna.create_study()
    mixed.optimize(
        lambda t: t.suggest_float("x", 0, 1) + len(t.suggest_categorical("c", ["a", "bb"])),
        n_trials=1,
    )
    needs_categorical = np.array([action.needs_categorical for action in ACTIONS])
    assert not dashboard.available_moves(numeric)[needs_categorical].any()
    assert dashboard.available_moves(mixed).all()
    assert dashboard.available_moves(optuna.create_study()).all()


def test_replace_section_keeps_the_users_text() -> None:
    section = f"{_attrs.NOTE_BEGIN}\nnew\n{_attrs.NOTE_END}"
    assert dashboard.replace_section("", section) == section
    assert dashboard.replace_section("mine", section) == f"mine\n\n{section}"
    old = f"before\n\n{_attrs.NOTE_BEGIN}\nold\n{_attrs.NOTE_END}\nafter"
    assert dashboard.replace_section(old, section) == f"before\n\n{section}\nafter"


def test_note_is_refreshed_every_tenth_agent_trial_only() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0), pruner=NopPruner())
    versions: dict[int, int] = {}
    study.optimize(
        objective,
        n_trials=35,
        callbacks=[
            dashboard.PolicyNoteCallback(),
            lambda s, t: versions.__setitem__(t.number, note_version(s)),
        ],
    )
    changed = [n for n in range(1, 35) if versions[n] != versions[n - 1]]
    # Trials 0-9 are the start-up design; the callback runs once a trial is told, so after
    # trial 10 the agent has learned from its first move.
    assert changed == [10, 20, 30]
    note = optuna_dashboard.get_note(study)
    assert note.startswith(_attrs.NOTE_BEGIN) and note.endswith(_attrs.NOTE_END)
    agent = study.sampler.agent_for(study)
    # Written after trial 30 was told: 31 trials folded, 21 of them the agent's; the final
    # policy is one explicit call away.
    assert "after 21 of its moves" in note
    assert dashboard.write_policy_note(study)
    assert f"after {agent.n_updates} of its moves" in optuna_dashboard.get_note(study)
    assert not dashboard.write_policy_note(study), "an unchanged note is not rewritten"


def test_note_keeps_what_the_user_wrote() -> None:
    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=3), pruner=NopPruner())
    optuna_dashboard.save_note(study, "## My experiment\n\nBaseline: 1.23")
    study.optimize(objective, n_trials=21, callbacks=[dashboard.PolicyNoteCallback()])
    note = optuna_dashboard.get_note(study)
    assert note.startswith("## My experiment\n\nBaseline: 1.23\n\n" + _attrs.NOTE_BEGIN)
    assert note.count(_attrs.NOTE_BEGIN) == 1


def test_without_optuna_dashboard_nothing_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)
    study = optuna.create_study(sampler=RLSampler(seed=0, n_startup_trials=3), pruner=NopPruner())
    study.optimize(objective, n_trials=21, callbacks=[dashboard.PolicyNoteCallback()])
    assert not dashboard.write_policy_note(study)
    system_attrs = study._storage.get_study_system_attrs(study._study_id)
    assert not [key for key in system_attrs if key.startswith("dashboard:")]


def test_a_failing_note_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(study: optuna.Study, sampler: RLSampler | None = None) -> bool:
        raise RuntimeError("storage is read-only")

    monkeypatch.setattr(dashboard, "write_policy_note", broken)
    study = optuna.create_study(sampler=RLSampler(seed=0), pruner=NopPruner())
    optuna.logging.enable_propagation()
    try:
        with caplog.at_level(logging.WARNING):
            study.optimize(objective, n_trials=21, callbacks=[dashboard.PolicyNoteCallback()])
    finally:
        optuna.logging.disable_propagation()
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 21
    # Trials 10 and 20 were due (the check does not look at what the agent has learned). A
    # record may reach caplog twice (pytest also captures Optuna's logger, which propagates
    # here), so distinct records are counted.
    failures = {id(r) for r in caplog.records if "storage is read-only" in r.getMessage()}
    assert len(failures) == 2


# --- The server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def two_objectives(trial: optuna.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 0.0, 1.0)
    trial.set_constraint("y_at_most", y - 0.8)
    return x, (1.0 + y) * (1.0 - x**0.5)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def dashboard_command() -> list[str]:
    script = Path(sys.executable).with_name("optuna-dashboard")
    if script.exists():
        return [str(script)]
    found = shutil.which("optuna-dashboard")
    assert found, "optuna-dashboard is not installed (the `dashboard` extra)"
    return [found]


@pytest.fixture(scope="module")
def served_study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, optuna.Study]]:
    """A SQLite study made by RLSampler and RLPruner, served by optuna-dashboard."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp_path_factory.mktemp('served') / 'study.db'}"
    study = optuna.create_study(
        study_name="served", storage=storage, sampler=RLSampler(seed=0), pruner=RLPruner()
    )
    study.optimize(objective, n_trials=25, callbacks=[dashboard.PolicyNoteCallback()])
    # Beside it, a constrained two-objective study of the same sampler, for the Pareto views.
    two = optuna.create_study(
        study_name="served-two-objectives",
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=RLSampler(seed=0),
    )
    two.optimize(two_objectives, n_trials=30)
    port = free_port()
    server = subprocess.Popen(
        [*dashboard_command(), storage, "--host", "127.0.0.1", "--port", str(port)]
        + ["--server", "wsgiref"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                get_json(f"{base}/api/studies")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "optuna-dashboard did not start in 60 s"
                time.sleep(0.2)
        yield base, study
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


def test_dashboard_serves_the_agents_user_attrs_and_note(
    served_study: tuple[str, optuna.Study],
) -> None:
    base, study = served_study
    summaries = get_json(f"{base}/api/studies")["study_summaries"]
    (summary,) = [s for s in summaries if s["study_name"] == "served"]
    detail = get_json(f"{base}/api/studies/{summary['study_id']}")

    # The trials table offers a column for each of the agent's user attrs.
    columns = {attr["key"] for attr in detail["union_user_attrs"]}
    assert USER_ATTRS <= columns

    stored = {t.number: t for t in study.trials}
    served = {t["number"]: t for t in detail["trials"]}
    assert served.keys() == stored.keys()
    for number, trial in served.items():
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        # Values are shown as text; numbers and booleans as Python prints them.
        assert attrs == {key: str(value) for key, value in stored[number].user_attrs.items()}
    agent_trial = next(
        t for t in study.trials if (d := recorded_decision(t)) is not None and d.by_agent
    )
    line = agent_trial.user_attrs["rl_sampler"]
    assert line.split()[0] in {a.name for a in ACTIONS}
    assert line.split("; state: ")[1] in {describe_state(s) for s in range(N_STATES)}

    # The policy note, written by the callback after trials 10 and 20.
    note = detail["note"]
    assert note["version"] == 2
    assert note["body"] == optuna_dashboard.get_note(study)
    assert "### optuna-rl: learned policy" in note["body"]
    assert "| state | visits | greedy move | Q | its visits |" in note["body"]

    # The page itself (the JavaScript app that renders all of the above).
    with urllib.request.urlopen(f"{base}/dashboard/studies/{summary['study_id']}") as page:
        assert page.status == 200
        assert b"bundle.js" in page.read()


def test_served_sampler_lines_say_who_chose_every_trial(
    served_study: tuple[str, optuna.Study],
) -> None:
    # One line per trial, which the trials table shows as a column: the decision in words.
    base, study = served_study
    summaries = get_json(f"{base}/api/studies")["study_summaries"]
    (summary,) = [s for s in summaries if s["study_name"] == "served"]
    detail = get_json(f"{base}/api/studies/{summary['study_id']}")
    stored = {t.number: t for t in study.trials}
    for served in detail["trials"]:
        (line,) = [a["value"] for a in served["user_attrs"] if a["key"] == "rl_sampler"]
        decision = recorded_decision(stored[served["number"]])
        if decision is None:
            assert line == "independent sampler (RandomSampler): no relative search space yet"
        else:
            assert line == _attrs.sampler_summary(decision)


def test_dashboard_shows_the_pareto_front_of_a_multi_objective_study(
    served_study: tuple[str, optuna.Study],
) -> None:
    base, study = served_study
    summaries = get_json(f"{base}/api/studies")["study_summaries"]
    (summary,) = [s for s in summaries if s["study_name"] == "served-two-objectives"]
    detail = get_json(f"{base}/api/studies/{summary['study_id']}")
    stored = optuna.load_study(study_name="served-two-objectives", storage=study._storage)
    # The dashboard's Pareto front is the study's, and every trial shows who chose it.
    assert len(detail["directions"]) == 2
    front = {t["number"] for t in detail["best_trials"]}
    assert front == {t.number for t in stored.best_trials} and len(front) >= 3
    for trial in detail["trials"]:
        attrs = {a["key"] for a in trial["user_attrs"]}
        assert attrs & {"rl_sampler", "rl_action"}, trial["number"]
    figure = get_json(f"{base}/api/studies/{summary['study_id']}/plot/pareto_front")
    figure = json.loads(figure) if isinstance(figure, str) else figure
    assert figure["data"], "no Pareto-front figure"


def test_the_pareto_front_renders_in_a_real_browser(
    served_study: tuple[str, optuna.Study], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (.ci/run installs it).")
        pytest.skip("needs a Chromium browser: apt-get install -y chromium")
    base, _ = served_study
    summaries = get_json(f"{base}/api/studies")["study_summaries"]
    (summary,) = [s for s in summaries if s["study_name"] == "served-two-objectives"]
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
        "--no-proxy-server",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        f"{base}/dashboard/studies/{summary['study_id']}",
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    # The page the browser rendered (React, plotly) shows the Pareto-front view with its plot.
    assert "Pareto Front" in dom
    assert "plotly" in dom
