"""How soon a hand-off sees its canary aborted in the cluster: Rollwright's follower on Argo CD's watch streams
(default settings) against the same follower polling every 100 ms, on the real local cluster, interleaved.

    .venv/bin/python -m bench.detection              # 10 runs of each
    .venv/bin/python -m bench.detection --runs 12

Each run hands a new version off with a long first pause, waits until the real canary sits in it, then aborts the
Rollout through the kube API (what `kubectl argo rollouts abort` does). The clock starts when a kube API watch on the
Rollout shows the abort (the cluster's change) and stops when the follower returns its outcome; what follows (the
workflow scheduling the first rollback activity) is the workflow's own, about 20 ms, and not measured here. For the
stream, "own" is the part after Argo CD's resource-tree event arrived: Rollwright's read and judgement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster, run_local_cluster
from devstack.cluster.kube import MERGE_PATCH, object_path
from rollwright.argocd import (
    ArgoCDClient,
    ArgoCDClientConfig,
    FollowOutcome,
    FollowProgress,
    FollowSettings,
    RolloutFollower,
)
from rollwright.argocd.follow import Stage
from rollwright.argocd.models import ApplicationTree, ResourceRef
from rollwright.argocd.watch import StreamSettings, StreamState
from rollwright.domain.plan import CanaryStep
from rollwright.observability.logging import configure_logging
from tests.handoff.regions import Region, digest_of, open_region

QUICK = [CanaryStep(weight=25, pause="2s")]
LONG_PAUSE = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=50)]
STREAM, POLL = "stream", "poll 100 ms"
SETTINGS = {
    STREAM: FollowSettings(),
    POLL: FollowSettings(poll_interval=0.1, stream=StreamSettings(enabled=False)),
}
GOAL_END_TO_END, GOAL_OWN = 0.5, 0.1
# The abort comes at a random moment after the pause is reached, so it falls anywhere between two polls.
SETTLE = (0.3, 0.8)
# The pause's own status writes come just after it is reached; reads while it waits are counted after them.
QUIET_AFTER = 0.5
READY_TIMEOUT = 90.0
_SHOWN_STATUS = ("phase", "message", "currentStepIndex", "pauseConditions", "readyReplicas", "updatedReplicas")
# A run starts once the follower is following this way: its stream up, or polling by its settings.
_LISTENING = (StreamState.UP, StreamState.OFF)


def _say(text: str) -> None:
    print(text, flush=True)


class _TimedClient(ArgoCDClient):
    """The real client, noting when each resource-tree event reaches the follower and how long each read of a
    resource takes."""

    def __init__(self, config: ArgoCDClientConfig) -> None:
        super().__init__(config)
        self.tree_events: list[float] = []
        self.reads: list[tuple[float, float]] = []  # (started, ended)

    async def get_resource(self, name: str, ref: ResourceRef) -> dict[str, Any]:
        started = time.monotonic()
        try:
            return await super().get_resource(name, ref)
        finally:
            self.reads.append((started, time.monotonic()))

    async def watch_resource_tree(
        self, name: str, *, on_listening: Callable[[], None] = lambda: None
    ) -> AsyncIterator[ApplicationTree]:
        async for tree in super().watch_resource_tree(name, on_listening=on_listening):
            self.tree_events.append(time.monotonic())
            yield tree


@dataclass
class _RolloutWatch:
    """A kube API watch on one Rollout: when each change reached us, and whether it shows the abort."""

    aborted_at: list[float] = field(default_factory=list)

    async def run(self, cluster: LocalCluster, namespace: str, name: str) -> None:
        path = f"/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts"
        params = {"watch": "true", "fieldSelector": f"metadata.name={name}"}
        async with (
            httpx.AsyncClient(
                base_url=cluster.kube_url,
                headers={"Authorization": f"Bearer {cluster.kube_token}"},
                verify=str(cluster.ca_file),
                timeout=httpx.Timeout(10.0, read=None),
            ) as kube,
            kube.stream("GET", path, params=params) as answer,
        ):
            async for line in answer.aiter_lines():
                status = json.loads(line).get("object", {}).get("status") or {}
                if status.get("abort") or status.get("phase") == "Degraded":
                    self.aborted_at.append(time.monotonic())


@dataclass(frozen=True)
class Sample:
    end_to_end: float
    own: float | None
    read: float | None  # of `own`, the read of the Rollout
    idle_reads: float  # reads of the Rollout a second while the canary waited in its pause: what following costs


async def _followed_in_pause(
    cluster: LocalCluster, region: Region, tag: str, beats: list[FollowProgress], follow: asyncio.Task[FollowOutcome]
) -> None:
    path = object_path("argoproj.io/v1alpha1", "Rollout", region.target.service, region.namespace)
    deadline = time.monotonic() + READY_TIMEOUT
    live: dict[str, Any] | None = None
    async with cluster.kube() as kube:
        while time.monotonic() < deadline:
            if follow.done():
                raise RuntimeError(f"{tag}: the hand-off ended before its canary paused: {follow.result()}")
            live = await kube.get_or_none(path)
            paused = live and digest_of(tag) in str(live["spec"]) and (live.get("status") or {}).get("pauseConditions")
            last = beats[-1] if beats else None
            if paused and last is not None and last.stage is Stage.FOLLOWING and last.stream in _LISTENING:
                return
            await asyncio.sleep(0.05)
    status = {k: v for k, v in ((live or {}).get("status") or {}).items() if k in _SHOWN_STATUS}
    raise RuntimeError(
        f"{tag} never paused in its canary with its hand-off following within {READY_TIMEOUT:g} s;"
        f" the Rollout's status: {status}; the hand-off's last progress: {beats[-1:]}"
    )


async def _one_run(cluster: LocalCluster, region: Region, watch: _RolloutWatch, tag: str, mode: str) -> Sample:
    sha = await region.commit(tag, LONG_PAUSE)
    beats: list[FollowProgress] = []
    client = _TimedClient(region.client_config)
    async with client:
        follower = RolloutFollower(client, SETTINGS[mode], on_progress=beats.append)
        follow = asyncio.create_task(
            follower.sync_and_follow(region.app, sha, digest=digest_of(tag), deadline_seconds=READY_TIMEOUT * 2)
        )
        try:
            await _followed_in_pause(cluster, region, tag, beats, follow)
            await asyncio.sleep(QUIET_AFTER)
            waited_from, reads_before = time.monotonic(), len(client.reads)
            await asyncio.sleep(random.uniform(*SETTLE))
            patching = time.monotonic()
            idle_reads = (len(client.reads) - reads_before) / (patching - waited_from)
            path = object_path("argoproj.io/v1alpha1", "Rollout", region.target.service, region.namespace)
            async with cluster.kube() as kube:
                await kube.request(
                    "PATCH", f"{path}/status", body={"status": {"abort": True}}, content_type=MERGE_PATCH
                )
            patched = time.monotonic()
            outcome: FollowOutcome = await asyncio.wait_for(follow, 60)
        finally:
            follow.cancel()
        done = time.monotonic()
    if outcome.healthy or not (outcome.reason or "").startswith("RolloutAborted"):
        raise RuntimeError(f"{tag}: expected the abort, the hand-off ended {outcome}")
    seen = [at for at in watch.aborted_at if at >= patching]
    if not seen:
        raise RuntimeError(f"{tag}: the kube watch never showed the abort")
    # The cluster had the change once the patch was answered or the watch showed it, whichever came first (the watch
    # shares this process's loop with the follower, so it may be late).
    changed = min(seen[0], patched)
    # The first tree event after the change: the one that showed it, or an earlier one (which only makes "own" longer).
    arrived = [at for at in client.tree_events if changed <= at <= done]
    own = done - arrived[0] if mode == STREAM and arrived else None
    last_read = [ended - started for started, ended in client.reads if started >= changed and ended <= done]
    return Sample(end_to_end=done - changed, own=own, read=last_read[-1] if last_read else None, idle_reads=idle_reads)


def _p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f} ms"


def _report(samples: dict[str, list[Sample]]) -> None:
    _say("\nabort in the cluster → the follower's outcome")
    _say(f"  {'':<12} {'runs':>4} {'median':>9} {'p99':>9} {'max':>9}   reads/s while the canary waits")
    for mode, runs in samples.items():
        values = [s.end_to_end for s in runs]
        idle = statistics.mean(s.idle_reads for s in runs)
        _say(
            f"  {mode:<12} {len(values):>4} {_ms(statistics.median(values))} {_ms(_p99(values))} {_ms(max(values))}"
            f"   {idle:.1f}"
        )
    stream = [s.end_to_end for s in samples[STREAM]]
    poll = [s.end_to_end for s in samples[POLL]]
    _say(
        f"  stream / poll: median {statistics.median(stream) / statistics.median(poll):.2f}x,"
        f" p99 {_p99(stream) / _p99(poll):.2f}x, max {max(stream) / max(poll):.2f}x"
    )
    own = [s.own for s in samples[STREAM] if s.own is not None]
    reads = [s.read for s in samples[STREAM] if s.read is not None]
    judging = [s.own - s.read for s in samples[STREAM] if s.own is not None and s.read is not None]
    if own and reads and judging:
        _say(
            f"  stream, Rollwright's own (tree event → outcome): median {_ms(statistics.median(own))},"
            f" p99 {_ms(_p99(own))}, max {_ms(max(own))}"
        )
        _say(
            f"    of it the Rollout's read through argocd-server: median {_ms(statistics.median(reads))},"
            f" max {_ms(max(reads))}; the rest (parsing, judging, waking): median {_ms(statistics.median(judging))},"
            f" max {_ms(max(judging))}"
        )
    met = max(stream) <= GOAL_END_TO_END and bool(own) and max(own) <= GOAL_OWN
    _say(
        f"  goal: every run ≤ {GOAL_END_TO_END * 1000:.0f} ms end to end, ≤ {GOAL_OWN * 1000:.0f} ms of it"
        f" Rollwright's own: {'met' if met else 'NOT met'} (the workflow's ~20 ms to its rollback not included)"
    )


async def _bench(runs: int) -> None:
    samples: dict[str, list[Sample]] = {STREAM: [], POLL: []}
    with tempfile.TemporaryDirectory(prefix="rollwright-bench-") as scratch:
        _say("starting the local cluster …")
        async with run_local_cluster(Path(scratch) / "cluster") as cluster:
            _say(f"  ready in {cluster.startup_seconds:.1f} s")
            workdir = Path(scratch) / "region"
            workdir.mkdir()
            async with open_region(cluster, workdir) as region:
                _say("first version (no canary: nothing runs yet) …")
                first = await region.hand_off("v1", QUICK)
                if first.outcome is not HandoffOutcome.HEALTHY:
                    raise RuntimeError(f"the first version did not come up: {first.reason}")
                watch = _RolloutWatch()
                watching = asyncio.create_task(watch.run(cluster, region.namespace, region.target.service))
                try:
                    version = 1
                    for number in range(1, runs + 1):
                        # Interleaved, and in turn first, so a drift in the machine's load hits both alike.
                        order = (STREAM, POLL) if number % 2 else (POLL, STREAM)
                        for mode in order:
                            version += 1
                            sample = await _one_run(cluster, region, watch, f"v{version}", mode)
                            samples[mode].append(sample)
                            own = f" (own {_ms(sample.own).strip()})" if sample.own is not None else ""
                            own += f", read {_ms(sample.read).strip()}" if sample.read is not None else ""
                            _say(f"  run {number}/{runs} {mode:<12} {_ms(sample.end_to_end)}{own}")
                finally:
                    watching.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watching
    _report(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detection", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="aborts to measure with each follower (default 10)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    configure_logging("console", "WARNING")
    asyncio.run(_bench(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
