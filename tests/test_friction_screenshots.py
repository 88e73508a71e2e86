"""``scripts/screenshots.py``: ``--help`` shows the whole description and every option's default,
and ``--out`` may name a folder outside the repository. Chromium is never started here."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import subprocess
from types import ModuleType
from typing import Any

import pytest


SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "screenshots.py"


@pytest.fixture(scope="module")
def screenshots() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_shows_the_whole_docstring_and_each_option_with_its_default(
    screenshots: ModuleType,
) -> None:
    help_text = " ".join(screenshots.build_parser().format_help().split())
    docstring = " ".join((screenshots.__doc__ or "").split())
    assert docstring in help_text
    for option in ("--storage", "--study-name", "--n-trials", "--out"):
        assert option in help_text
    assert "(default: 50)" in help_text
    assert f"(default: {screenshots.ROOT / 'docs' / 'images'})" in help_text


def test_shown_path_is_relative_inside_the_repository_and_as_given_outside(
    screenshots: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = screenshots.ROOT
    assert screenshots.shown_path(root / "docs" / "images" / "a.png") == "docs/images/a.png"
    assert screenshots.shown_path(tmp_path / "a.png") == str(tmp_path / "a.png")
    monkeypatch.chdir(tmp_path)
    assert screenshots.shown_path(Path("a.png")) == "a.png"


def test_screenshot_into_a_folder_outside_the_repository(
    screenshots: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fake_chromium(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        (target,) = [arg.split("=", 1)[1] for arg in command if arg.startswith("--screenshot=")]
        Path(target).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(screenshots.subprocess, "run", fake_chromium)
    args = screenshots.build_parser().parse_args(["--out", str(tmp_path / "images")])
    assert not args.out.resolve().is_relative_to(screenshots.ROOT)
    args.out.mkdir(parents=True)
    screenshots.screenshot("chromium", "file:///figure.html", args.out / "a.png", (100, 80))
    assert capsys.readouterr().out == f"{tmp_path / 'images' / 'a.png'}: 2 KB\n"
