"""A throwaway PostgreSQL server (Debian's binaries) on a free port, for the version store's tests.

initdb refuses to run as root, so when we are root the cluster belongs to the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from devstack.ports import free_port
from devstack.process import managed_process, tcp_probe


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


@dataclass(frozen=True)
class RunningPostgres:
    url: str  # SQLAlchemy URL (psycopg 3 driver)
    port: int


def _bin_dir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "postgres").exists():
            return Path(candidate)
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailableError("PostgreSQL server not installed: run `make tools` (apt-get install postgresql)")


def _as_user() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    entry = pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--"], entry.pw_uid, entry.pw_gid


@contextlib.asynccontextmanager
async def run_postgres(database: str = "rollwright") -> AsyncIterator[RunningPostgres]:
    bin_dir = _bin_dir()
    prefix, uid, gid = _as_user()
    # Not under pytest's tmp_path: the postgres user must be able to reach the data directory.
    root = Path(tempfile.mkdtemp(prefix="rollwright-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if uid is not None and gid is not None:
        os.chown(root, uid, gid)
        os.chown(sockets, uid, gid)
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "rollwright", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        port = free_port()
        argv = [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                "-k", str(sockets), "-c", "fsync=off", "-c", "max_connections=50"]  # fmt: skip
        async with managed_process(
            "postgres", argv, log_file=root / "postgres.log", probe=tcp_probe("127.0.0.1", port)
        ):
            subprocess.run(
                [*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "rollwright", database],
                check=True,
                capture_output=True,
            )
            yield RunningPostgres(url=f"postgresql+psycopg://rollwright@127.0.0.1:{port}/{database}", port=port)
    finally:
        shutil.rmtree(root, ignore_errors=True)
