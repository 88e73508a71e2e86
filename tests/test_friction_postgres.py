"""The PostgreSQL tests skip on a machine without the server, saying how to install it, and fail
under CI (``CI=true``), where the server is mandatory.

Each case runs ``tests/conftest.py`` as it is in a separate pytest process, with the binary
lookup of ``tests/_postgres.py`` made to find nothing, so no PostgreSQL is uninstalled.
"""

from __future__ import annotations

from pathlib import Path
import shutil

import pytest


pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent

INNER_TEST = """
import _postgres


def find_nothing(pattern):
    return []


# As on a machine without Debian's postgresql package: no /usr/lib/postgresql/*/bin.
_postgres.glob.glob = find_nothing


def test_uses_postgres(postgres_url):
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A copy of the shared fixtures beside one test that uses PostgreSQL."""
    for name in ("conftest.py", "_postgres.py"):
        shutil.copy(TESTS / name, pytester.path / name)
    pytester.makepyfile(test_inner=INNER_TEST)
    return pytester


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_missing_server_skips_outside_ci_and_says_how_to_install_it(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = suite.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    output = result.stdout.str()
    assert "apt-get install -y postgresql" in output
    assert "Debian's postgresql package" in output
    assert "PostgreSQL server binaries not found" in output


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_missing_server_fails_under_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    result = suite.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "CI=true and PostgreSQL is unavailable" in output
    assert "SKIPPED" not in output


def test_ci_exports_ci_true_before_running_pytest() -> None:
    lines = (TESTS.parent / ".ci" / "run").read_text().splitlines()
    pytest_line = lines.index("pytest -q")
    assert "export CI=true" in lines[:pytest_line]
