"""The chaos: every 15–30 s a random worker is SIGKILLed, with every process it started or alone (its Pulumi and git
children then live on as orphans), and started again 1–3 s later; once, the Temporal dev server is stopped and
started again on its database file.

A seeded random.Random makes every choice (intervals, victims, with or without children, delays, when Temporal
restarts), so a seed repeats the choices; the machine's timing decides what each kill interrupts. Until
`aimed_commit_kills` and `aimed_provision_kills` have landed, a kill is aimed: it waits (past its drawn interval if need
be) for a worker running git (only `commit_manifests` does) or pulumi (only a provision does) and kills that one, so
every run shows what a death during a commit costs and that a provision survives one.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devstack.dev_server import DevServer
from tests.chaos.workers import WorkerProcess

# Each kill that lands on a running step costs that step its heartbeat timeout (stack.HEARTBEAT_TIMEOUT) and the work
# it had done, on a path of hand-offs one after another: with a kill every 4-12 s (and 15 s heartbeat timeouts) a 20 s
# provision took five attempts and 126 s. Every 15-30 s still kills several times a run, the aimed kills first.
KILL_INTERVAL = (15.0, 30.0)
# An aimed kill watches from this long after the round began until it catches its program: a commit's git runs for
# well under a second, so a watch that ended with the drawn interval let the aimed commit kills land late or not at all.
AIM_AFTER = 8.0
RESTART_DELAY = (1.0, 3.0)
# Seconds after the pushes are in when Temporal goes down once.
TEMPORAL_RESTART_AFTER = (10.0, 40.0)
_WATCH_INTERVAL = 0.02


class Aim(StrEnum):
    """What an aimed kill waits for: a worker caught running this program."""

    COMMIT = "git"
    PROVISION = "pulumi"

    @property
    def during(self) -> str:
        return {Aim.COMMIT: "during a commit", Aim.PROVISION: "during a Pulumi run"}[self]

    def fits(self, worker: WorkerProcess) -> bool:
        runs = worker.role.runs_light_activities if self is Aim.COMMIT else worker.role.runs_pulumi
        return runs and worker.runs_program(self.value)


@dataclass(frozen=True)
class ChaosEvent:
    at: float  # wall clock, comparable with history event times
    elapsed: float
    what: str


@dataclass(frozen=True)
class Outage:
    """When Temporal was down (wall clock): a step waiting then was delayed by the outage, not a dead worker."""

    start: float
    end: float


@dataclass(frozen=True)
class _Draw:
    """One round's choices, all drawn up front so the seed alone fixes their sequence."""

    interval: float
    victim: int
    with_children: bool
    restart_delay: float


class ChaosMonkey:
    def __init__(
        self,
        rng: random.Random,
        workers: list[WorkerProcess],
        temporal: DevServer,
        *,
        log_file: Path,
        aimed_commit_kills: int = 2,
        aimed_provision_kills: int = 1,
    ) -> None:
        self._rng = rng
        self._workers = workers
        self._temporal = temporal
        self._log_file = log_file
        self._aims_left = {Aim.COMMIT: aimed_commit_kills, Aim.PROVISION: aimed_provision_kills}
        self._temporal_restart_after = rng.uniform(*TEMPORAL_RESTART_AFTER)
        self._temporal_allowed_at: float | None = None
        self._started = time.monotonic()
        self.events: list[ChaosEvent] = []
        self.kills = 0
        self.aimed_kills: dict[Aim, list[ChaosEvent]] = {aim: [] for aim in Aim}
        self.outage: Outage | None = None
        self.spontaneous_exits: list[str] = []

    def allow_temporal_restart(self) -> None:
        """From now (plus the drawn delay) Temporal may go down: the pushes have reached their first lanes."""
        if self._temporal_allowed_at is None:
            self._temporal_allowed_at = time.monotonic()
            self._note(f"Temporal restart due in {self._temporal_restart_after:.1f}s")

    def describe(self) -> str:
        return "\n".join(f"  {e.elapsed:7.1f}s  {e.what}" for e in self.events)

    async def run(self, stop: asyncio.Event) -> None:
        """Kill and restart until `stop` is set; a kill under way finishes with its restart."""
        self._started = time.monotonic()
        while not stop.is_set():
            draw = _Draw(
                interval=self._rng.uniform(*KILL_INTERVAL),
                victim=self._rng.randrange(len(self._workers)),
                with_children=self._rng.random() < 0.5,
                restart_delay=self._rng.uniform(*RESTART_DELAY),
            )
            aimed = await self._wait(stop, draw.interval)
            if stop.is_set():
                return
            await self._restart_exited()
            if self._temporal_restart_due():
                await self._restart_temporal(draw.restart_delay)
                continue
            victim, aim = aimed or (self._workers[draw.victim], None)
            await self._kill_and_restart(victim, draw, aim=aim)

    async def _wait(self, stop: asyncio.Event, interval: float) -> tuple[WorkerProcess, Aim] | None:
        """Sleep out the interval, or return as soon as Temporal's restart is due; while aimed kills are left, watch
        from AIM_AFTER on, as long as it takes, and return the first worker caught at what one aims at."""
        deadline = time.monotonic() + interval
        earliest = time.monotonic() + AIM_AFTER
        while not stop.is_set() and not self._temporal_restart_due():
            aims = [aim for aim, left in self._aims_left.items() if left > 0]
            if not aims and time.monotonic() >= deadline:
                return None
            if aims and time.monotonic() >= earliest:
                for aim in aims:
                    for worker in self._workers:
                        if aim.fits(worker):
                            return worker, aim
                await asyncio.sleep(_WATCH_INTERVAL)
            else:
                await asyncio.sleep(0.2)
        return None

    def _temporal_restart_due(self) -> bool:
        allowed = self._temporal_allowed_at
        return (
            self.outage is None and allowed is not None and time.monotonic() - allowed >= self._temporal_restart_after
        )

    async def _kill_and_restart(self, worker: WorkerProcess, draw: _Draw, *, aim: Aim | None) -> None:
        pid = worker.pid
        killed, orphaned = worker.kill(with_children=draw.with_children)
        self.kills += 1
        how = "with its children" if draw.with_children else "alone"
        during = f" {aim.during}" if aim else ""
        left = f"; orphaned {', '.join(orphaned)}" if orphaned else ""
        event = self._note(f"SIGKILL {worker.name} {pid} {how}{during}: {', '.join(killed)}{left}")
        if aim is not None:
            self._aims_left[aim] -= 1
            self.aimed_kills[aim].append(event)
        await asyncio.sleep(draw.restart_delay)
        await worker.start()
        self._note(f"started {worker.name} again: {worker.pid}")

    async def _restart_exited(self) -> None:
        for worker in self._workers:
            code = worker.exit_code()
            if code is not None:
                self.spontaneous_exits.append(f"{worker.name} pid {worker.pid} exited by itself with {code}")
                self._note(self.spontaneous_exits[-1])
                await worker.start()

    async def _restart_temporal(self, delay: float) -> None:
        down = time.time()
        self._note("stopping the Temporal dev server")
        await self._temporal.stop()
        await asyncio.sleep(delay)
        await self._temporal.start()
        self.outage = Outage(start=down, end=time.time())
        self._note(
            f"Temporal dev server serving again on {self._temporal.db_file.name} after {time.time() - down:.1f}s"
        )

    def _note(self, what: str) -> ChaosEvent:
        event = ChaosEvent(at=time.time(), elapsed=time.monotonic() - self._started, what=what)
        self.events.append(event)
        with self._log_file.open("a") as log:
            log.write(f"{event.elapsed:7.1f}s  {what}\n")
        print(f"chaos {event.elapsed:6.1f}s  {what}", flush=True)
        return event
