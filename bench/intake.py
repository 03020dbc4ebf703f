"""A registry push through Rollwright's webhook receiver against the same signal-with-start done directly with a
temporalio Client, measured in the same run, interleaved round by round.

    .venv/bin/python -m bench.intake                          # 5 rounds of each row
    .venv/bin/python -m bench.intake --rounds 3 --source generic

Parts, all real: the Temporal dev server (devstack/temporal.py, as the tests start it) and the receiver as production
runs it, `rollwright webhook --config FILE` in its own process (uvicorn, rollwright/webhooks/server.py). No worker
runs: the receiver answers 202 once Temporal holds the signal, and a worker's lane (which would look the tag up in
a registry) neither delays that answer nor happens in the raw call; it would only take CPU from both sides alike.

The raw side is the call the receiver makes (rollwright/webhooks/enqueue.py), from this process, with a client
connected the same way, on the receiver's event loop (uvloop; `--loop asyncio` for asyncio's). Every push, on both
sides, is a new tag for one of `--services` services, round robin, so every signal is a real enqueue; all lanes
are started before timing, so both sides signal running workflows.
The webhook side speaks HTTP/1.1 over kept-alive connections with a few lines of asyncio, so the figures show the
receiver's cost, not the load generator's. Each webhook answer is checked (202, `accepted`).

Rows:
  sequential   one sender, one push at a time: p50 and p99 latency, webhook / raw
  burst        `--senders` concurrent senders over `--services` services: pushes per second, webhook / raw; and
               the CPU a push costs each process (receiver, sender or raw client, Temporal server), whose sums give
               the ratio a burst tends to where the cores are the limit, which a loaded machine's noise hardly moves
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import yaml
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from devstack.temporal import start_dev_server
from rollwright.config import RollwrightConfig, load_config
from rollwright.connections.temporal import connect_temporal
from rollwright.domain.deployment import ENQUEUE_SIGNAL, PushEvent
from rollwright.domain.lane import LANE_WORKFLOW, LaneInput, lane_name, lane_workflow_id
from rollwright.domain.search_attributes import ENVIRONMENT, LANE, SERVICE
from rollwright.domain.source import SourceEvent
from rollwright.observability.logging import configure_logging
from rollwright.webhooks.payloads import generic
from rollwright.webhooks.server import event_loop
from tests.webhooks import payloads

REGISTRY_HOST = "registry.local:5000"
DIGEST = "sha256:" + "5e" * 32
# Placeholders in a body encoded once per service; each push replaces them (a new tag, a new delivery id).
TAG_MARK, ID_MARK = "__tag__", "__delivery__"
TOKEN_ENV, HMAC_ENV = "RW_BENCH_TOKEN", "RW_BENCH_HMAC"
# The receiver as operators run it.
RECEIVER_COMMAND = [sys.executable, "-m", "rollwright.cli", "webhook"]


def _say(text: str) -> None:
    print(text, flush=True)


Push = Callable[[int], Awaitable[None]]


# --- the webhook side: a kept-alive HTTP/1.1 connection ---


class Connection:
    """One sender's kept-alive connection to the receiver; `post` sends one request and reads one answer.

    The receiver closes a connection idle past its keep-alive timeout (uvicorn: 5 s), as it would a registry's:
    the next post then connects again, as the registry's HTTP client would.
    """

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        if self._stream is None or self._stream[0].at_eof():
            await self.close()
            self._stream = await asyncio.open_connection(*self._address)
        reader, writer = self._stream
        writer.write(head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        status_and_headers = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = status_and_headers.split(b"\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        return int(status_line.split(b" ", 2)[1]), answer

    async def close(self) -> None:
        if self._stream is None:
            return
        _, writer = self._stream
        self._stream = None
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@dataclass
class Deliveries:
    """Each service's delivery, encoded once, and how a push of it is addressed and signed."""

    source: str
    services: list[str]
    host: str
    port: int
    token: str
    hmac_secret: str
    templates: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in self.services:
            repository = f"shop/{service}"
            if self.source == "distribution":
                envelope = payloads.distribution(repository, TAG_MARK, DIGEST, host=REGISTRY_HOST)
                envelope["events"][1]["id"] = ID_MARK
                self.templates[service] = json.dumps(envelope).encode()
            else:
                push = {"repository": f"{REGISTRY_HOST}/{repository}", "tag": TAG_MARK, "digest": DIGEST}
                self.templates[service] = json.dumps(push).encode()

    def request(self, service: str, tag: str, delivery: str) -> tuple[bytes, bytes]:
        body = (
            self.templates[service]
            .replace(TAG_MARK.encode(), tag.encode())
            .replace(ID_MARK.encode(), delivery.encode())
        )
        lines = [f"POST /webhooks/{self.source} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.source == "distribution":
            lines += [
                "Content-Type: application/vnd.docker.distribution.events.v1+json",
                f"Authorization: Bearer {self.token}",
            ]
        else:
            signature = "sha256=" + hmac.new(self.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
            lines += [
                "Content-Type: application/json",
                f"{generic.SIGNATURE_HEADER}: {signature}",
                f"{generic.DELIVERY_HEADER}: {delivery}",
            ]
        return ("\r\n".join(lines) + "\r\n").encode(), body


class WebhookSide:
    def __init__(self, deliveries: Deliveries, run: str) -> None:
        self.deliveries = deliveries
        self._run = run
        self._counter = itertools.count()

    def sender(self, connection: Connection) -> Push:
        services = self.deliveries.services

        async def push(n: int) -> None:
            i = next(self._counter)
            head, body = self.deliveries.request(services[n % len(services)], f"v1.{i}.0", f"{self._run}-w{i}")
            status, answer = await connection.post(head, body)
            if status != 202 or b'"accepted"' not in answer:
                raise RuntimeError(f"the receiver answered {status}: {answer[:300]!r}")

        return push


# --- the raw side: the receiver's own call, from here ---


class RawSide:
    def __init__(self, client: Client, config: RollwrightConfig, run: str) -> None:
        self.client = client
        self.config = config
        self._run = run
        self._counter = itertools.count()

    async def signal_with_start(self, service: str, tag: str, delivery: str) -> None:
        # The same request as rollwright/webhooks/enqueue.py's: a push built as the receiver builds it.
        event = PushEvent(
            service=service,
            repository=f"shop/{service}",
            tag=tag,
            digest_hint=DIGEST,
            source=SourceEvent(source="bench", delivery_id=delivery, received_at=datetime.now(UTC)),
        )
        environment = self.config.service(service).environments[0].name
        await self.client.start_workflow(
            LANE_WORKFLOW,
            LaneInput(service=service, environment=environment),
            id=lane_workflow_id(service, environment),
            task_queue=self.config.temporal.task_queue,
            start_signal=ENQUEUE_SIGNAL,
            start_signal_args=[event],
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SERVICE, service),
                    SearchAttributePair(ENVIRONMENT, environment),
                    SearchAttributePair(LANE, lane_name(service, environment)),
                ]
            ),
            static_summary=f"{service}/{environment}: lane (one deployment at a time, newest wins)",
        )

    def sender(self) -> Push:
        services = [service.name for service in self.config.services]

        async def push(n: int) -> None:
            i = next(self._counter)
            await self.signal_with_start(services[n % len(services)], f"v1.{i}.0", f"{self._run}-r{i}")

        return push


# --- measuring ---


def _p99(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) > 1 else samples[0]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def _sequential(push: Push, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        await push(n)
        latencies.append(time.perf_counter() - started)
    return latencies


async def _burst(pushes: Sequence[Push], seconds: float) -> tuple[int, float]:
    """Pushes done and the seconds they took, each sender pushing one at a time until the time is up."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def send(offset: int, push: Push) -> None:
        nonlocal done
        n = offset
        while time.perf_counter() < deadline:
            await push(n)
            done += 1
            n += len(pushes)

    started = time.perf_counter()
    await asyncio.gather(*(send(offset, push) for offset, push in enumerate(pushes)))
    return done, time.perf_counter() - started


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass
class Bench:
    webhook: WebhookSide
    raw: RawSide
    connections: list[Connection]
    receiver: psutil.Process
    temporal: psutil.Process

    async def sequential_row(self, rounds: int, count: int) -> None:
        _say(f"\nrow 1: sequential, {rounds} rounds of {count} pushes a side, order swapped each round")
        sides = {"webhook": self.webhook.sender(self.connections[0]), "raw": self.raw.sender()}
        samples: dict[str, list[float]] = {name: [] for name in sides}
        ratios = []
        for round_ in range(rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            medians = {}
            for name in order:
                latencies = await _sequential(sides[name], count)
                samples[name] += latencies
                medians[name] = statistics.median(latencies)
            ratios.append(medians["webhook"] / medians["raw"])
            _say(
                f"  round {round_ + 1}/{rounds}: webhook p50 {_ms(medians['webhook'])}, raw p50 {_ms(medians['raw'])}"
                f", ratio {ratios[-1]:.2f}x"
            )
        p50 = {name: statistics.median(values) for name, values in samples.items()}
        p99 = {name: _p99(values) for name, values in samples.items()}
        _say(f"  webhook: p50 {_ms(p50['webhook'])}, p99 {_ms(p99['webhook'])}")
        _say(f"  raw:     p50 {_ms(p50['raw'])}, p99 {_ms(p99['raw'])}")
        _say(
            f"  webhook POST -> 202 vs raw signal-with-start: p50 {p50['webhook'] / p50['raw']:.2f}x"
            f" (rounds {min(ratios):.2f}-{max(ratios):.2f}x), p99 {p99['webhook'] / p99['raw']:.2f}x"
            "   goal <= 1.3x / <= 1.5x"
        )

    async def burst_row(self, rounds: int, seconds: float, senders: int) -> None:
        services = len(self.raw.config.services)
        _say(f"\nrow 2: burst, {senders} senders over {services} services, {rounds} rounds of {seconds:g} s a side")
        sides = {
            "webhook": [self.webhook.sender(connection) for connection in self.connections[:senders]],
            "raw": [self.raw.sender() for _ in range(senders)],
        }
        rates: dict[str, list[float]] = {name: [] for name in sides}
        # CPU a push costs each process: the receiver, this one (the sender, or the raw client) and Temporal.
        cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
        processes = {"receiver": self.receiver, "here": psutil.Process(), "temporal": self.temporal}
        ratios = []
        for round_ in range(rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                before = {where: _cpu(process) for where, process in processes.items()}
                done, elapsed = await _burst(sides[name], seconds)
                rates[name].append(done / elapsed)
                for where, process in processes.items():
                    cpu[name, where].append((_cpu(process) - before[where]) / done)
            ratios.append(rates["webhook"][-1] / rates["raw"][-1])
            _say(
                f"  round {round_ + 1}/{rounds}: webhook {rates['webhook'][-1]:.0f}/s, raw {rates['raw'][-1]:.0f}/s"
                f", ratio {ratios[-1]:.2f}x"
            )
        median = {name: statistics.median(values) for name, values in rates.items()}
        spent = {key: statistics.median(values) for key, values in cpu.items()}
        cpu_said = {
            "webhook": f"receiver {_ms(spent['webhook', 'receiver'])}, sender {_ms(spent['webhook', 'here'])}",
            "raw": f"client {_ms(spent['raw', 'here'])}",
        }
        for name, values in rates.items():
            _say(
                f"  {name + ':':8} median {median[name]:.0f}/s (min {min(values):.0f}, max {max(values):.0f});"
                f" CPU a push: {cpu_said[name]}, Temporal {_ms(spent[name, 'temporal'])}"
            )
        _say(
            f"  webhook burst throughput vs raw: {median['webhook'] / median['raw']:.2f}x"
            f" (rounds {min(ratios):.2f}-{max(ratios):.2f}x)   goal >= 0.8x"
        )
        # The sender stands in for a registry on another machine; here it shares the cores, so it is counted.
        total = {name: sum(spent[name, where] for where in processes) for name in sides}
        _say(
            f"  CPU a push, all processes: webhook {_ms(total['webhook'])}, raw {_ms(total['raw'])}: where the cores"
            f" are the limit, the ratio tends to {total['raw'] / total['webhook']:.2f}x"
        )


# --- the parts ---


def _write_config(directory: Path, address: str, services: Sequence[str], listen: str) -> Path:
    config = {
        "services": [
            {"name": name, "image": f"{REGISTRY_HOST}/shop/{name}", "environments": [{"name": "dev", "waves": [["a"]]}]}
            for name in services
        ],
        "gitops": {"repo": "file:///nonexistent/gitops.git"},
        "temporal": {"address": address, "task_queue": f"bench-intake-{uuid.uuid4().hex[:8]}"},
        "webhooks": {
            "listen": listen,
            "sources": {"distribution": {"token": {"env": TOKEN_ENV}}, "generic": {"hmac_secret": {"env": HMAC_ENV}}},
        },
    }
    path = directory / "rollwright.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _dev_server() -> psutil.Process:
    """The dev server's process: the SDK starts it as a child of this one."""
    for child in psutil.Process().children(recursive=True):
        if child.name() == "temporal":
            return child
    raise RuntimeError("the Temporal dev server is not a child of this process; cannot measure its CPU")


@contextlib.asynccontextmanager
async def _receiver(config_path: Path, port: int, env: dict[str, str], log_file: Path) -> AsyncIterator[int]:
    argv = [*RECEIVER_COMMAND, "--config", str(config_path)]
    probe = http_probe(f"http://127.0.0.1:{port}/readyz", timeout=60)
    async with managed_process("webhook receiver", argv, log_file=log_file, probe=probe, env=env) as proc:
        yield proc.pid


async def main(args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    services = [f"svc{n:02d}-{run}" for n in range(args.services)]
    secrets = {TOKEN_ENV: f"bench-token-{uuid.uuid4().hex}", HMAC_ENV: f"bench-hmac-{uuid.uuid4().hex}"}
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        _say("starting the Temporal dev server")
        env = await start_dev_server()
        try:
            address = env.client.service_client.config.target_host
            port = free_port()
            config_path = _write_config(Path(tmp), address, services, f"127.0.0.1:{port}")
            os.environ.update(secrets)
            config = load_config(config_path)
            _say(f"starting the receiver: rollwright webhook on 127.0.0.1:{port} (log {tmp}/receiver.log)")
            async with _receiver(config_path, port, {**os.environ}, Path(tmp) / "receiver.log") as pid:
                _say(f"  receiver pid {pid} (py-spy record --pid {pid} to profile it)")
                raw = RawSide(await connect_temporal(config.temporal), config, run)
                deliveries = Deliveries(args.source, services, "127.0.0.1", port, secrets[TOKEN_ENV], secrets[HMAC_ENV])
                webhook = WebhookSide(deliveries, run)
                connections = [Connection("127.0.0.1", port) for _ in range(max(1, args.senders))]
                try:
                    _say(f"starting {len(services)} lanes and warming both sides up")
                    await _sequential(raw.sender(), len(services))
                    await _sequential(webhook.sender(connections[0]), len(services))
                    await _burst([webhook.sender(connection) for connection in connections], 1.0)
                    await _burst([raw.sender() for _ in connections], 1.0)
                    bench = Bench(webhook, raw, connections, psutil.Process(pid), _dev_server())
                    if "sequential" in args.rows:
                        await bench.sequential_row(args.rounds, args.pushes)
                    if "burst" in args.rows:
                        await bench.burst_row(args.rounds, args.seconds, args.senders)
                finally:
                    for connection in connections:
                        await connection.close()
        finally:
            await env.shutdown()
    _say("\nfigures on a shared machine are noisy: compare the ratios, which are measured in the same run")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each row, sides interleaved (default 5)")
    parser.add_argument("--pushes", type=int, default=300, help="sequential pushes a side per round (default 300)")
    parser.add_argument("--seconds", type=float, default=3.0, help="burst length a side per round (default 3)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders in the burst (default 16)")
    parser.add_argument("--services", type=int, default=50, help="services pushed to, round robin (default 50)")
    parser.add_argument(
        "--source",
        choices=("distribution", "generic"),
        default="distribution",
        help="distribution: the registry's envelope with a bearer token; generic: HMAC-signed",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="this process's event loop, for the raw client and the senders (default: uvloop, the receiver's)",
    )
    parser.add_argument("--rows", nargs="+", choices=("sequential", "burst"), default=["sequential", "burst"])
    return parser.parse_args(argv)


if __name__ == "__main__":
    configure_logging("console", "WARNING")
    arguments = parse_args()
    with asyncio.Runner(loop_factory=event_loop if arguments.loop == "uvloop" else None) as runner:
        runner.run(main(arguments))
