"""The Temporal dev server as a process of our own, on a fixed port and a database file, so a test can stop it and
start it again where it left off (a Temporal outage and recovery). devstack/temporal.py's launcher hands the
process to the SDK, which can only shut it down for good.

    server = DevServer(port=free_port(), db_file=tmp / "temporal.db", log_file=tmp / "temporal.log")
    await server.start()
    ...
    await server.stop()   # every workflow, timer and task queue survives in db_file
    await server.start()  # same address: clients and workers reconnect by themselves
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from devstack.process import ReadinessProbe, managed_process
from devstack.temporal import CLI_TYPE_NAMES, dev_server_path
from rollwright.domain.search_attributes import ALL as SEARCH_ATTRIBUTES

NAMESPACE = "default"


class DevServerStateError(RuntimeError):
    """start() while running, or stop() while stopped."""


def dev_server_argv(*, port: int, db_file: Path) -> list[str]:
    argv = [
        dev_server_path(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--db-filename",
        str(db_file),
        "--headless",
        "--log-format",
        "pretty",
        "--log-level",
        "error",
    ]
    # Registering keys the database already holds is a no-op, so a restart passes the same flags.
    for key in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", f"{key.name}={CLI_TYPE_NAMES[key.indexed_value_type]}"]
    return argv


def _serving_probe(address: str) -> ReadinessProbe:
    async def check() -> bool:
        try:
            client = await Client.connect(address, namespace=NAMESPACE)
            await client.count_workflows()
        except (RuntimeError, RPCError):
            # Connecting fails (RuntimeError) until it listens; calls fail (RPCError) until the namespace is loaded.
            return False
        return True

    return ReadinessProbe(check=check, timeout=60, description=f"serving namespace {NAMESPACE} on {address}")


class DevServer:
    def __init__(self, *, port: int, db_file: Path, log_file: Path) -> None:
        self.port = port
        self.db_file = db_file
        self.log_file = log_file
        self._life: contextlib.AsyncExitStack | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._life is not None

    async def start(self) -> None:
        """Start on the port and database file, and return once the namespace answers."""
        if self._life is not None:
            raise DevServerStateError(f"the dev server on {self.address} is already running")
        life = contextlib.AsyncExitStack()
        await life.enter_async_context(
            managed_process(
                "temporal dev server",
                dev_server_argv(port=self.port, db_file=self.db_file),
                log_file=self.log_file,
                probe=_serving_probe(self.address),
            )
        )
        self._life = life

    async def stop(self) -> None:
        """SIGTERM (SIGKILL after the grace period) and wait until it is gone; the database file stays."""
        if self._life is None:
            raise DevServerStateError(f"the dev server on {self.address} is not running")
        life, self._life = self._life, None
        await life.aclose()

    async def client(self) -> Client:
        """A client that outlives restarts: its connection comes back when the server does."""
        return await Client.connect(self.address, namespace=NAMESPACE, data_converter=pydantic_data_converter)
