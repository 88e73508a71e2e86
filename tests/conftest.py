"""Shared fixtures: a private PostgreSQL server for the multi-worker tests, a tmpfs folder."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import shutil
import tempfile

from _postgres import PostgresCluster
from _postgres import PostgresUnavailable
import pytest


POSTGRES_SKIP_REASON = (
    "PostgreSQL tests need a local PostgreSQL server; to run them, install Debian's postgresql "
    "package: `apt-get install -y postgresql` (with CI=true they fail instead of skipping)"
)


def running_in_ci() -> bool:
    """Whether the environment says this is CI (``CI=true``, as ``.ci/run`` and most CI
    services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster on a free 127.0.0.1 port, stopped and deleted after the session.

    If the server cannot start (its binaries are missing, say), the tests that use it skip,
    saying how to install it, so that the README's ``pytest -q`` passes on a fresh machine.
    Under CI (``CI=true``) they fail instead, never skip: ``.ci/run`` installs the server, so
    there a missing server is a broken environment, not a reason to test less.
    """
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        if running_in_ci():
            pytest.fail(f"CI=true and PostgreSQL is unavailable: {exc}", pytrace=False)
        pytest.skip(f"{POSTGRES_SKIP_REASON}. Cause: {str(exc).splitlines()[0]}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """URL of an empty database on :func:`postgres_cluster`, shared by the session's tests
    (give each study a name of its own)."""
    return postgres_cluster.create_database("optuna_rl_tests")


@pytest.fixture
def tmpfs_path(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder on tmpfs (``/dev/shm``) where there is one, else ``tmp_path``.

    For storage files written by many workers or with many small commits: each commit of a
    SQLite or Journal file storage is an fsync, which on a busy disk costs milliseconds and
    tests nothing more.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="optuna-rl-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
