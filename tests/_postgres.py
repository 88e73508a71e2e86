"""A private, throw-away PostgreSQL cluster on 127.0.0.1 for the multi-worker tests and benchmarks.

The server runs from the Debian binaries (``/usr/lib/postgresql/<version>/bin``), which CI
installs with ``apt-get install postgresql``. ``initdb`` refuses to run as root, so when this
process is root the server commands run as the ``postgres`` system user (``runuser``) in a
temporary folder that user owns. The cluster trusts local connections and skips fsync: it holds
nothing worth keeping and is deleted when stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
import glob
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import tempfile


USER = "optuna"
"""Superuser name of the cluster; URLs connect as this user without a password."""

_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=200"
)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the cluster could not start."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb`` and ``pg_ctl``."""
    candidates = []
    for pg_ctl in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        bin_dir = Path(pg_ctl).parent
        version = bin_dir.parent.name
        if (bin_dir / "initdb").exists() and version.isdigit():
            candidates.append((int(version), bin_dir))
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (initdb, "
            "pg_ctl). Install them with `apt-get install -y postgresql`, as .ci/run does; the "
            "multi-worker tests need a real PostgreSQL server."
        )
    return max(candidates)[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A running private cluster. Use :meth:`start`, then :meth:`create_database` and
    :meth:`stop`."""

    def __init__(self, root: Path, port: int, bin_dir: Path, run_as: Sequence[str]) -> None:
        self.root = root
        self.port = port
        self.bin_dir = bin_dir
        self._run_as = list(run_as)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls) -> PostgresCluster:
        """Create a cluster in a new folder under the system temp dir and start it."""
        bin_dir = find_bin_dir()
        run_as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(
                    "Running as root, but there is no `postgres` system user to run initdb as "
                    "(the Debian package `postgresql` creates it)."
                ) from exc
            run_as = ["runuser", "-u", "postgres", "--"]
        root = Path(tempfile.mkdtemp(prefix="optuna-rl-pg-"))
        root.chmod(0o755)
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(root, free_port(), bin_dir, run_as)
        try:
            cluster._server(
                "initdb", "-D", str(cluster.data_dir), "-U", USER, "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync",
            )  # fmt: skip
            cluster._server(
                "pg_ctl", "-D", str(cluster.data_dir), "-l", str(root / "server.log"), "-w",
                "-t", "60", "-o", f"-p {cluster.port} -k {root} {_SERVER_OPTIONS}", "start",
            )  # fmt: skip
        except PostgresUnavailable:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    def _server(self, program: str, *args: str) -> None:
        command = [*self._run_as, str(self.bin_dir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"`{' '.join(command)}` failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{server_log}"
            )

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` for Optuna's ``RDBStorage``."""
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, database: str) -> str:
        """Create an empty database and return its URL."""
        command = [
            str(self.bin_dir / "createdb"),
            "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, database,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"createdb {database} failed: {result.stderr}")
        return self.url(database)

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed) and delete its files."""
        try:
            self._server("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
