"""200 deployments at once on one worker: its peak RSS, each workflow's duration and its history, against a bare
workflow of the same shape (bench/bare.py) measured in the same run, the two variants alternating.

    .venv/bin/python -m bench.memory                     # 2 rounds of 200 of each
    .venv/bin/python -m bench.memory --rounds 3 --workflows 100

Each variant runs in a worker process of its own (bench/memory_worker.py, the SDK's default worker settings for
both) on a real Temporal dev server; its peak RSS is the process's VmHWM once every workflow finished. The
DeploymentWorkflow deploys a demo-like plan (staging, then prod in two waves, canary checks, Rollwright's own
checks in the bake and the watch) with instant activity doubles that answer with realistic payloads
(bench/memory_doubles.py). A workflow's duration is its history's first to last event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory

from bench.bare import BARE_WORKFLOW
from bench.bare_shape import BareEnvironment, BareInput, Window
from bench.memory_worker import BARE, DEPLOYMENT, READY, VARIANTS
from devstack.temporal import start_dev_server
from rollwright.domain.deployment import DEPLOYMENT_WORKFLOW, DeploymentInput, DeploymentOutcome, DeploymentResult
from rollwright.domain.plan import ServicePlan
from rollwright.domain.source import SourceEvent
from tests.workflows.doubles import digest_of

ROOT = Path(__file__).resolve().parent.parent
PROGRESS_EVERY = 2.0  # seconds between progress lines while a batch runs
READY_WITHIN = 60.0
HISTORY_FETCHES = 16  # at once
# Compiled for the workers: everything of Rollwright's a worker of either variant imports.
COMPILED = ("workflows", "activities", "rollwright", "bench", "tests")
STALLED_AFTER = 180.0  # seconds without a workflow finishing before the bench gives up on a worker
TAG = "v1.0.0"
# Short windows: the bench measures the workflows' work, not their waiting.
BAKE = timedelta(seconds=1)
WATCH = timedelta(seconds=1)
CHECK_INTERVAL = timedelta(seconds=2)


def _say(text: str) -> None:
    print(text, flush=True)


def bench_plan() -> ServicePlan:
    """A plan of the demo's shape and payloads: one staging region, prod in two waves with a bake between, a canary
    with two steps and a success-rate analysis, and Rollwright's own error-ratio check in the bake and the watch."""
    error_ratio = {
        "name": "error-ratio",
        "query": (
            'sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}",code=~"5.."}'
            "[10s])) / "
            'sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}"}[10s]))'
        ),
        "success_condition": "result <= 0.05",
        "compare_to_baseline": {"max_degradation": 0.02},
    }
    checked = {"checks": [error_ratio], "interval": CHECK_INTERVAL}
    success_rate = {
        "name": "success-rate",
        "query": (
            'sum(rate(http_requests_total{service="{{args.service}}",pod_template_hash="{{args.canary-hash}}",'
            'code!~"5.."}[10s])) / sum(rate(http_requests_total{service="{{args.service}}",'
            'pod_template_hash="{{args.canary-hash}}"}[10s]))'
        ),
        "success_condition": "isNaN(result[0]) || result[0] >= 0.95",
        "interval": "2s",
        "count": 4,
        "failure_limit": 0,
        "initial_delay": "4s",
    }
    prod_waves = [["us-east-1"], ["eu-west-1", "ap-south-1"]]
    return ServicePlan.model_validate(
        {
            "service": "checkout-api",
            "image": "registry.local:5000/shop/checkout-api",
            "pulumi_program": "rollwright.stacks.web_service:program",
            "canary": {
                "steps": [{"weight": 25, "pause": "5s"}, {"weight": 50, "pause": "5s"}],
                "progress_deadline": "2m",
                "checks": [success_rate],
            },
            "environments": [
                {
                    "name": "staging",
                    "waves": [["local-a"]],
                    "pulumi_config": {"replicas": 2},
                    "prometheus_address": "http://prometheus.monitoring:9090",
                    "verification": checked,
                },
                {
                    "name": "prod",
                    "waves": prod_waves,
                    "bake": BAKE,
                    "pulumi_config": {"replicas": 3},
                    "prometheus_address": "http://prometheus.monitoring:9090",
                    "region_prometheus": dict.fromkeys(prod_waves[1], "http://prometheus.eu-ap.monitoring:9090"),
                    "verification": {**checked, "watch": WATCH},
                },
            ],
        }
    )


def bare_input(plan: ServicePlan, pulumi_task_queue: str) -> BareInput:
    """The plan's shape for the bare workflow: a check round checks each checked environment once."""
    interval = CHECK_INTERVAL.total_seconds()
    environments = []
    for env in plan.environments:
        bake = None
        if env.bake is not None:
            checks = 1 if env.verification.checks else 0
            bake = Window(env.bake.total_seconds(), interval if checks else env.bake.total_seconds(), checks)
        environments.append(BareEnvironment(waves=env.waves, bake=bake))
    watch = None
    if (window := plan.environments[-1].verification.watch) is not None:
        checks = sum(1 for env in plan.environments if env.verification.checks)
        watch = Window(window.total_seconds(), interval, checks)
    return BareInput(environments=environments, pulumi_task_queue=pulumi_task_queue, watch=watch)


# -- one batch -------------------------------------------------------------------------------------


@dataclass
class Batch:
    variant: str
    idle_rss: int  # bytes, the worker ready and nothing running
    peak_rss: int  # bytes, VmHWM once every workflow of the burst finished
    seconds: float  # the burst's first start to its last result
    durations: list[float]  # each workflow of the burst
    solo: list[float]  # each workflow run alone, after the burst
    histories: list[WorkflowHistory]  # the burst's
    failures: list[str] = field(default_factory=list)


def _status_bytes(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no {key}: this bench reads Linux's process status")


def _mb(value: float) -> str:
    return f"{value / 2**20:.1f} MB"


def compiled_environment(cache: Path) -> dict[str, str]:
    """The workers' environment: Rollwright's modules compiled once into `cache`, as an installed wheel has them (pip
    compiles on install). Without bytecode (PYTHONDONTWRITEBYTECODE, a fresh checkout) the sandbox compiles a
    workflow's modules from source for every run it starts, which no deployed worker does."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    subprocess.run([sys.executable, "-m", "compileall", "-q", *COMPILED], cwd=ROOT, env=env, check=True)
    return env


async def _start_worker(
    variant: str, address: str, queue: str, pulumi_queue: str, env: dict[str, str]
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.memory_worker", variant, address, queue, pulumi_queue,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), READY_WITHIN)
    if line.decode().strip() != READY:
        process.kill()
        raise RuntimeError(f"the {variant} worker did not start (it said {line!r}); run bench.memory_worker by hand")
    return process


async def _stop_worker(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


def _duration(history: WorkflowHistory) -> float:
    first, last = history.events[0].event_time, history.events[-1].event_time
    return (last.ToNanoseconds() - first.ToNanoseconds()) / 1e9


class _Runs:
    """Starts one variant's workflows on one task queue and checks how each ended."""

    def __init__(self, client: Client, plan: ServicePlan, variant: str) -> None:
        self.client = client
        self.variant = variant
        run = uuid.uuid4().hex[:8]
        self.queue, self.pulumi_queue = f"bench-memory-{variant}-{run}", f"bench-memory-{variant}-{run}-pulumi"
        self._prefix = f"bench-{variant}-{run}"
        self._workflow, self._arg = _workflow_and_input(plan, variant, self.pulumi_queue)
        self.failures: list[str] = []
        self.done = 0
        self._fetching = asyncio.Semaphore(HISTORY_FETCHES)

    async def start(self, name: str) -> WorkflowHandle[Any, Any]:
        return await self.client.start_workflow(
            self._workflow, self._arg, id=f"{self._prefix}-{name}", task_queue=self.queue
        )

    async def finish(self, handle: WorkflowHandle[Any, Any]) -> WorkflowHistory:
        try:
            result = await handle.result()
            if self.variant == DEPLOYMENT:
                outcome = DeploymentResult.model_validate(result).outcome
                if outcome is not DeploymentOutcome.SUCCEEDED:
                    self.failures.append(f"{handle.id}: {outcome.value}")
        except WorkflowFailureError as error:
            self.failures.append(f"{handle.id}: {error.cause or error}")
        self.done += 1
        async with self._fetching:
            return await handle.fetch_history()


async def _burst(runs: _Runs, count: int, pid: int) -> tuple[list[WorkflowHistory], float]:
    """`count` workflows at once, a progress line every few seconds; the histories, and the seconds it took."""
    began = time.monotonic()
    handles = await asyncio.gather(*(runs.start(f"burst-{index}") for index in range(count)))
    gathered = asyncio.ensure_future(asyncio.gather(*(runs.finish(handle) for handle in handles)))
    last_done, last_change = 0, began
    while not gathered.done():
        await asyncio.wait([gathered], timeout=PROGRESS_EVERY)
        now = time.monotonic()
        if runs.done != last_done:
            last_done, last_change = runs.done, now
        elif now - last_change > STALLED_AFTER and not gathered.done():
            gathered.cancel()
            raise RuntimeError(
                f"{runs.variant}: no workflow finished for {STALLED_AFTER:.0f} s; is the worker still polling "
                f"{runs.queue}? (its warnings are above)"
            )
        rss, peak = _status_bytes(pid, "VmRSS"), _status_bytes(pid, "VmHWM")
        _say(f"  {runs.variant}: {runs.done}/{count} done after {now - began:.0f} s, RSS {_mb(rss)} (peak {_mb(peak)})")
    return gathered.result(), time.monotonic() - began


async def run_batch(
    client: Client, plan: ServicePlan, variant: str, count: int, solo: int, env: dict[str, str], label: str
) -> Batch:
    """One worker process: `count` workflows at once (its peak RSS), then `solo` more one after another."""
    runs = _Runs(client, plan, variant)
    address = client.service_client.config.target_host
    worker = await _start_worker(variant, address, runs.queue, runs.pulumi_queue, env)
    try:
        idle = _status_bytes(worker.pid, "VmRSS")
        _say(f"{label}: {variant} worker ready (pid {worker.pid}, {_mb(idle)}); {count} workflows at once")
        histories, seconds = await _burst(runs, count, worker.pid)
        peak = _status_bytes(worker.pid, "VmHWM")
        _say(f"  {variant}: {count} finished in {seconds:.1f} s, peak RSS {_mb(peak)}; now {solo} one at a time")
        alone = [await runs.finish(await runs.start(f"solo-{index}")) for index in range(solo)]
    finally:
        await _stop_worker(worker)
    durations, solo_durations = [_duration(h) for h in histories], [_duration(h) for h in alone]
    return Batch(variant, idle, peak, seconds, durations, solo_durations, histories, runs.failures)


def _workflow_and_input(plan: ServicePlan, variant: str, pulumi_queue: str) -> tuple[str, Any]:
    if variant == BARE:
        return BARE_WORKFLOW, bare_input(plan, pulumi_queue)
    return DEPLOYMENT_WORKFLOW, DeploymentInput(
        plan=plan,
        tag=TAG,
        digest=digest_of(TAG),
        source=SourceEvent(source="bench", delivery_id=uuid.uuid4().hex),
        pulumi_task_queue=pulumi_queue,
    )


# -- reporting -------------------------------------------------------------------------------------


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _history_bytes(history: WorkflowHistory) -> int:
    return sum(event.ByteSize() for event in history.events)


def _event_name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()


def _by_event_type(histories: Sequence[WorkflowHistory]) -> dict[str, tuple[float, float]]:
    """event type -> (events, bytes) per workflow."""
    counts: dict[str, int] = defaultdict(int)
    sizes: dict[str, int] = defaultdict(int)
    for history in histories:
        for event in history.events:
            counts[_event_name(event)] += 1
            sizes[_event_name(event)] += event.ByteSize()
    n = len(histories)
    return {name: (counts[name] / n, sizes[name] / n) for name in counts}


def _payload_bytes(payloads: Payloads) -> int:
    return sum(payload.ByteSize() for payload in payloads.payloads)


def _by_activity(histories: Sequence[WorkflowHistory]) -> dict[str, list[float]]:
    """activity type -> [calls, input bytes, result bytes, summary bytes] per workflow."""
    table: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for history in histories:
        scheduled: dict[int, str] = {}
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attributes = event.activity_task_scheduled_event_attributes
                scheduled[event.event_id] = attributes.activity_type.name
                row = table[attributes.activity_type.name]
                row[0] += 1
                row[1] += _payload_bytes(attributes.input)
                row[3] += event.user_metadata.summary.ByteSize()
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                completed = event.activity_task_completed_event_attributes
                table[scheduled[completed.scheduled_event_id]][2] += _payload_bytes(completed.result)
    n = len(histories)
    return {name: [value / n for value in row] for name, row in table.items()}


def _row(what: str, values: Sequence[float], unit: str) -> None:
    deployment, bare = values
    ratio = deployment / bare if bare else float("nan")
    _say(f"  {what:<38} {deployment:>10.2f} {unit:<3} {bare:>10.2f} {unit:<3} {ratio:>7.2f}×")


def report(batches: Sequence[Batch], count: int) -> None:
    deployment = [batch for batch in batches if batch.variant == DEPLOYMENT]
    bare = [batch for batch in batches if batch.variant == BARE]
    _say(f"\n== {count} workflows at once on one worker, {len(deployment)} round(s) of each variant, alternating ==")
    _say(f"\n  {'round':<8} {'deployment peak':>16} {'bare peak':>10} {'ratio':>7}   {'median at once':>24}")
    for index, (dep, bar) in enumerate(zip(deployment, bare, strict=True), start=1):
        dep_median, bar_median = statistics.median(dep.durations), statistics.median(bar.durations)
        _say(
            f"  {index:<8} {_mb(dep.peak_rss):>16} {_mb(bar.peak_rss):>10} {dep.peak_rss / bar.peak_rss:>6.2f}×"
            f"   {dep_median:>6.2f} s vs {bar_median:>6.2f} s {dep_median / bar_median:>5.2f}×"
        )

    def median_of(batches: Sequence[Batch], value: Callable[[Batch], float]) -> float:
        return statistics.median(value(batch) for batch in batches)

    mib = 2**20
    _say(f"\n  {'all rounds':<38} {'deployment':>14} {'bare':>14} {'ratio':>8}")
    _row("peak RSS (median of rounds)", [median_of(v, lambda b: b.peak_rss / mib) for v in (deployment, bare)], "MB")
    _row("idle RSS (median of rounds)", [median_of(v, lambda b: b.idle_rss / mib) for v in (deployment, bare)], "MB")
    _row(
        "peak − idle (median of rounds)",
        [median_of(v, lambda b: (b.peak_rss - b.idle_rss) / mib) for v in (deployment, bare)],
        "MB",
    )
    at_once = [[d for b in v for d in b.durations] for v in (deployment, bare)]
    alone = [[d for b in v for d in b.solo] for v in (deployment, bare)]
    _row("duration, at once: median", [statistics.median(d) for d in at_once], "s")
    _row("duration, at once: p99", [_p99(d) for d in at_once], "s")
    _row("burst wall time (median of rounds)", [median_of(v, lambda b: b.seconds) for v in (deployment, bare)], "s")
    if all(alone):
        _row("duration, one at a time: median", [statistics.median(d) for d in alone], "s")
        _row("duration, one at a time: p99", [_p99(d) for d in alone], "s")
    histories = [[h for b in v for h in b.histories] for v in (deployment, bare)]
    _row("history events per workflow", [statistics.mean(len(h.events) for h in v) for v in histories], "")
    _row("history size per workflow", [statistics.mean(_history_bytes(h) for h in v) / 1024 for v in histories], "KB")
    failures = [failure for batch in batches for failure in batch.failures]
    total = sum(len(batch.histories) + len(batch.solo) for batch in batches)
    _say(f"  completed: {total - len(failures)}/{total}")
    for failure in failures[:10]:
        _say(f"    NOT COMPLETED {failure}")

    _say(f"\n  {'history per workflow, by event type':<38} {'deployment':>20} {'bare':>20}")
    dep_types, bar_types = (_by_event_type(v) for v in histories)
    for name in sorted(set(dep_types) | set(bar_types), key=lambda n: -dep_types.get(n, (0.0, 0.0))[1]):
        (de, db), (be, bb) = dep_types.get(name, (0.0, 0.0)), bar_types.get(name, (0.0, 0.0))
        _say(f"  {name:<38} {de:>6.1f} × {db:>8.0f} B {be:>6.1f} × {bb:>8.0f} B")
    _say(
        f"\n  {'deployment activities, per workflow':<38} {'calls':>6} {'input B':>9} {'result B':>9} {'summary B':>10}"
    )
    for name, (calls, inputs, results, summaries) in sorted(_by_activity(histories[0]).items(), key=lambda i: -i[1][1]):
        _say(f"  {name:<38} {calls:>6.1f} {inputs:>9.0f} {results:>9.0f} {summaries:>10.0f}")


async def main_async(rounds: int, count: int, solo: int) -> int:
    plan = bench_plan()
    batches: list[Batch] = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-bytecode-") as cache:
        _say(f"compiling Rollwright's modules into {cache}, as an installed wheel has them")
        worker_env = compiled_environment(Path(cache))
        _say("starting the Temporal dev server")
        server = await start_dev_server()
        try:
            for index in range(rounds):
                # Alternate which variant goes first, so neither always meets a fresher (or more loaded) server.
                order = VARIANTS if index % 2 == 0 else tuple(reversed(VARIANTS))
                for variant in order:
                    label = f"round {index + 1}/{rounds}"
                    batches.append(await run_batch(server.client, plan, variant, count, solo, worker_env, label))
        finally:
            await server.shutdown()
    report(batches, count)
    return 1 if any(batch.failures for batch in batches) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.memory", description="DeploymentWorkflow vs a bare workflow of its shape"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each variant (default 2)")
    parser.add_argument("--workflows", type=int, default=200, help="workflows at once in each round (default 200)")
    parser.add_argument("--solo", type=int, default=10, help="workflows one at a time after each burst (default 10)")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.rounds, args.workflows, args.solo))


if __name__ == "__main__":
    sys.exit(main())
