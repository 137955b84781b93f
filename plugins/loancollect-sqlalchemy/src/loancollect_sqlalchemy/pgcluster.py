"""A throwaway PostgreSQL cluster for tests and benchmarks.

:class:`TemporaryPostgres` runs ``initdb`` and ``pg_ctl`` from the machine's
PostgreSQL server binaries in a temporary directory, on a free loopback port,
and removes everything when stopped. PostgreSQL refuses to run as root, so when
the current user is root the binaries run as an unprivileged user (``nobody`` by
default, through ``runuser``).

    with TemporaryPostgres() as pg:
        store = SqlStore(pg.url("collect"))

Binaries are looked up in ``$LOANCOLLECT_PG_BIN``, then ``pg_config --bindir``,
then ``/usr/lib/postgresql/<version>/bin`` (newest first), then ``$PATH``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["INSTALL_HINT", "PostgresNotFoundError", "TemporaryPostgres", "find_bindir"]

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found; install them "
    "(Debian/Ubuntu: 'apt-get install postgresql'; macOS: 'brew install postgresql') or "
    "point LOANCOLLECT_PG_BIN at their directory"
)


class PostgresNotFoundError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _has_server(bindir: str | Path) -> bool:
    d = Path(bindir)
    return all((d / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path:
    """The directory of ``initdb``/``pg_ctl``/``postgres``.

    :raises PostgresNotFoundError: if there is none.
    """
    env = os.environ.get("LOANCOLLECT_PG_BIN")
    if env and _has_server(env):
        return Path(env)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            if out and _has_server(out):
                return Path(out)

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if _has_server(found):
            return Path(found)
    initdb = shutil.which("initdb")
    if initdb and _has_server(Path(initdb).parent):
        return Path(initdb).parent
    raise PostgresNotFoundError(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TemporaryPostgres:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only.

    :param user: the OS user to run the server as when the current user is root.
    :param settings: extra ``postgres -c`` settings.
    """

    def __init__(self, *, user: str = "nobody", settings: dict[str, str] | None = None) -> None:
        self.bindir = find_bindir()
        self.port = _free_port()
        self.user = user
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "256MB",
            **(settings or {}),
        }
        self.root: Path | None = None

    def _cmd(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", self.user, "--", *args]
        return list(args)

    def _run(self, *args: str) -> None:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr.strip() or proc.stdout}")

    def start(self) -> Self:
        """initdb, then start the server and wait until it accepts connections."""
        self.root = Path(tempfile.mkdtemp(prefix="lc-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, user=self.user)
        self.root.chmod(0o755)
        data = self.root / "data"
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-p {self.port} -k {self.root} {options}",
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if self.root is None:
            return
        with contextlib.suppress(RuntimeError):
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            )
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql+psycopg://`` URL for ``database`` on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
