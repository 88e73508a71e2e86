"""Optuna's gRPC storage proxy (``optuna.storages.run_grpc_proxy_server``) in a process of its
own on 127.0.0.1, in front of an RDB storage, for the multi-worker tests and benchmarks.

The server wraps the RDB in ``optuna.storages.get_storage(url)`` (Optuna's cached RDB storage),
as Optuna's documentation asks: a bare ``RDBStorage`` has no cache in the process and is much
slower behind the proxy. Workers connect with ``optuna.storages.GrpcStorageProxy``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import warnings

from _postgres import free_port
import optuna


_SERVER = """
import sys
import optuna
from optuna.storages import get_storage
from optuna.storages import run_grpc_proxy_server

optuna.logging.set_verbosity(optuna.logging.WARNING)
run_grpc_proxy_server(get_storage(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]))
"""


class GrpcProxy:
    """A running proxy server; :meth:`stop` ends it.

    Args:
        url: The RDB storage URL the server opens (SQLite or PostgreSQL).
        timeout: Seconds to wait for the server to accept connections.
    """

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        # A file, not a pipe: a server that outlives its reader must never block on a full pipe.
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, url, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
        )
        try:
            self.storage().wait_server_ready(timeout=timeout)
        except ConnectionError as exc:
            log = self._stderr()
            self.stop()
            raise RuntimeError(f"the gRPC proxy did not start:\n{log}") from exc

    @property
    def location(self) -> str:
        """``host:port`` of the server."""
        return f"{self.host}:{self.port}"

    def storage(self) -> optuna.storages.GrpcStorageProxy:
        """A new client of the server."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.GrpcStorageProxy(host=self.host, port=self.port)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._log.read()
