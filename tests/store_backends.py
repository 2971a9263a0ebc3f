"""The databases the store's tests run on: a SQLite file, and a real PostgreSQL server.

The PostgreSQL server is started once per test process, in a temporary folder,
on a free local port, with trust authentication on 127.0.0.1 only, and stopped
(its folder removed) when the process ends. When ``initdb`` and ``pg_ctl`` are
missing, ``scripts/postgres.sh`` installs the server first. Each test gets a
database of its own.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("sqlite", "postgresql")


def _server_bin() -> Path | None:
    found = shutil.which("initdb")
    candidates = [Path(found).parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """A throwaway PostgreSQL server: ``start``, ``new_database``, ``stop``."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.port = 0
        self._names = itertools.count()

    def _as_owner(self, args: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root: run them as the postgres user.
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def start(self) -> None:
        binaries = _server_bin()
        if binaries is None:
            subprocess.run(["sh", str(ROOT / "scripts" / "postgres.sh")], check=True)
            binaries = _server_bin()
            assert binaries is not None, "PostgreSQL's server was not installed"
        self.folder = Path(tempfile.mkdtemp(prefix="ccp-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        subprocess.run(
            self._as_owner(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.port = free_port()
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            self._as_owner(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(self.folder / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self._binaries = binaries

    def stop(self) -> None:
        if self.folder is None:
            return
        subprocess.run(
            self._as_owner(
                [
                    str(self._binaries / "pg_ctl"),
                    "-D",
                    str(self.folder / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new empty database on this server."""
        name = f"ccp_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


_SERVER: PostgresServer | None = None


def postgres_server() -> PostgresServer:
    """The test process's PostgreSQL server, started on first use and stopped at exit."""
    global _SERVER  # noqa: PLW0603 - one server for the whole test process
    if _SERVER is None:
        server = PostgresServer()
        atexit.register(server.stop)
        server.start()
        _SERVER = server
    return _SERVER


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        yield postgres_server().new_database()
