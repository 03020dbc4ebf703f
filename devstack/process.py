"""A child process that belongs to a context: started in its own group, waited for, always stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from rollwright.observability.logging import get_logger

log = get_logger(__name__)


class ProcessStartError(RuntimeError):
    """A launched process exited early or never became ready; the message carries its log's tail."""


@dataclass(frozen=True)
class ReadinessProbe:
    check: Callable[[], Awaitable[bool]]
    timeout: float = 30.0
    description: str = "ready"


def http_probe(url: str, *, accept: Sequence[int] = (200,), timeout: float = 30.0) -> ReadinessProbe:
    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return False
        return response.status_code in accept

    return ReadinessProbe(check=check, timeout=timeout, description=f"GET {url}")


def tcp_probe(host: str, port: int, *, timeout: float = 30.0) -> ReadinessProbe:
    async def check() -> bool:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    return ReadinessProbe(check=check, timeout=timeout, description=f"tcp {host}:{port}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# util-linux's setpriv execs the part with PR_SET_PDEATHSIG: should this process die without stopping its parts (a
# test killed by its timeout, a CI job cancelled), the kernel kills them too, and no cluster outlives its session.
_SETPRIV = shutil.which("setpriv")
_DIES_WITH_PARENT = [_SETPRIV, "--pdeathsig", "KILL", "--"] if _SETPRIV else []


@contextlib.asynccontextmanager
async def managed_process(
    name: str,
    argv: Sequence[str],
    *,
    log_file: Path,
    probe: ReadinessProbe,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    grace: float = 10.0,
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Start `argv`, wait until `probe` passes, yield the process, and stop its whole group on exit."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            [*_DIES_WITH_PARENT, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    log.info("process started", name=name, pid=proc.pid, log=str(log_file))
    try:
        deadline = time.monotonic() + probe.timeout
        while not await probe.check():
            if proc.poll() is not None:
                raise ProcessStartError(f"{name} exited with {proc.returncode}; last log lines:\n{_tail(log_file)}")
            if time.monotonic() > deadline:
                raise ProcessStartError(
                    f"{name} not {probe.description} after {probe.timeout:.0f}s; last log lines:\n{_tail(log_file)}"
                )
            await asyncio.sleep(0.1)
        yield proc
    finally:
        await asyncio.to_thread(stop_process_group, proc, grace)
        log.info("process stopped", name=name, pid=proc.pid)
