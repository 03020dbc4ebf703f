"""The hand-off sees a failed canary through Argo CD's watch streams, on the real stack: with the poll interval set far
longer than the test, only the stream can tell it in time; with the streams cut (by a fault proxy in front of the real
argocd-server) it falls back to polling, says so in its progress, and still ends right."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from activities.contracts import HandoffOutcome, HandoffResult
from devstack.cluster import LocalCluster
from devstack.cluster.kube import MERGE_PATCH, object_path
from devstack.faultproxy import RunningFaultProxy, run_fault_proxy
from rollwright.argocd.follow import Stage
from rollwright.argocd.watch import StreamSettings, StreamState
from rollwright.domain.plan import CanaryStep
from tests.handoff.regions import Region, digest_of, open_region

# The first version goes straight to Healthy; the second waits in its first pause until it is aborted.
QUICK = [CanaryStep(weight=25, pause="2s")]
LONG_PAUSE = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=50)]
# Far longer than each test: a look that only a poll could explain comes too late.
SLOW_POLL = 30.0
# While the stream is up the follower still looks this often (a silently dead connection sends nothing).
RECHECK = StreamSettings().recheck
FALLBACK_POLL = 0.5


def _rollout_path(region: Region) -> str:
    return object_path("argoproj.io/v1alpha1", "Rollout", region.target.service, region.namespace)


async def _paused_and_followed(local_cluster: LocalCluster, region: Region, tag: str, stream: StreamState) -> None:
    """Return once the real Rollout (read from the kube API) waits in `tag`'s pause and the hand-off follows it there
    with its stream in state `stream`."""
    deadline = time.monotonic() + 60
    async with local_cluster.kube() as kube:
        while time.monotonic() < deadline:
            live = await kube.get_or_none(_rollout_path(region))
            paused = live and digest_of(tag) in str(live["spec"]) and (live.get("status") or {}).get("pauseConditions")
            last = region.beats[-1].progress if region.beats else None
            if paused and last is not None and last.stage is Stage.FOLLOWING and last.stream is stream:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{tag} never paused with its hand-off following, stream {stream.value}: {region.beats[-3:]}")


@contextlib.asynccontextmanager
async def _behind_a_proxy(
    local_cluster: LocalCluster, tmp_path: Path, *, poll_interval: float, streams: bool = True
) -> AsyncIterator[tuple[RunningFaultProxy, Region]]:
    """A region whose hand-offs reach the real argocd-server through a fault proxy that fails nothing but what a test
    cuts."""
    async with (
        run_fault_proxy(local_cluster.argocd_url, error_ratio=0.0) as proxy,
        open_region(
            local_cluster, tmp_path, server=proxy.url, poll_interval=f"{poll_interval:g}s", streams=streams
        ) as region,
    ):
        yield proxy, region


async def _paused_with_streams_cut(
    local_cluster: LocalCluster, region: Region, proxy: RunningFaultProxy
) -> tuple[asyncio.Task[HandoffResult], int]:
    """v1 handed off Healthy, then v2 followed into its long pause with the stream up, the streams cut, and the
    follower polling: v2's hand-off still running, and how many streams the proxy had relayed at the cut."""
    first = await region.hand_off("v1", QUICK)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    follow = asyncio.create_task(region.hand_off("v2", LONG_PAUSE))
    await _paused_and_followed(local_cluster, region, "v2", StreamState.UP)
    proxy.streams.cut()
    relayed = proxy.counts.streams_relayed
    await _paused_and_followed(local_cluster, region, "v2", StreamState.DOWN)
    return follow, relayed


async def _abort(local_cluster: LocalCluster, region: Region) -> None:
    """What `kubectl argo rollouts abort` does: the cluster's change, made past Argo CD."""
    async with local_cluster.kube() as kube:
        await kube.request(
            "PATCH", _rollout_path(region) + "/status", body={"status": {"abort": True}}, content_type=MERGE_PATCH
        )


async def test_with_the_stream_up_an_aborted_canary_ends_the_hand_off_long_before_a_poll_would(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    async with open_region(local_cluster, tmp_path, poll_interval=f"{SLOW_POLL:g}s") as region:
        started = time.monotonic()
        first = await region.hand_off("v1", QUICK)
        # Syncing and walking a canary with 30 s between polls: the application and tree streams drove it.
        first_took = time.monotonic() - started
        assert first.outcome is HandoffOutcome.HEALTHY, first.reason
        follow = asyncio.create_task(region.hand_off("v2", LONG_PAUSE))
        await _paused_and_followed(local_cluster, region, "v2", StreamState.UP)
        last_look = region.beats[-1].at

        await _abort(local_cluster, region)

        result = await asyncio.wait_for(follow, SLOW_POLL)
        since_last_look = time.monotonic() - last_look
        streams = [beat.progress.stream for beat in region.beats]
        # The next version's canary, after the abort: the controller's first status about it still carries the old
        # abort for a moment, which the stream shows and which must not fail it.
        after = await asyncio.wait_for(region.hand_off("v3", QUICK), SLOW_POLL)
    print(f"\nv1 handed off in {first_took:.1f} s; v2's abort seen {since_last_look:.2f} s after the last look")
    assert first_took < SLOW_POLL, "the first hand-off waited for a poll"
    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert result.reason.startswith("RolloutAborted"), result.reason
    # Without the stream, the next look would have come RECHECK (or SLOW_POLL) after the last one.
    assert since_last_look < RECHECK / 2
    assert StreamState.UP in streams
    assert StreamState.DOWN not in streams, streams
    assert after.outcome is HandoffOutcome.HEALTHY, after.reason


async def test_with_the_streams_cut_the_hand_off_polls_says_so_and_still_sees_the_abort(
    local_cluster: LocalCluster, tmp_path: Path
) -> None:
    async with _behind_a_proxy(local_cluster, tmp_path, poll_interval=FALLBACK_POLL) as (proxy, region):
        follow, relayed = await _paused_with_streams_cut(local_cluster, region, proxy)
        down_since = len(region.beats) - 1
        await _abort(local_cluster, region)

        result = await asyncio.wait_for(follow, 30)
    counts = proxy.counts
    print(f"\nfault proxy: {counts}")
    assert result.outcome is HandoffOutcome.CANARY_FAILED
    assert result.reason is not None
    assert result.reason.startswith("RolloutAborted"), result.reason
    assert counts.streams_cut >= 1, counts
    # No stream got through after the cut, and the progress said so to the end: polling alone saw the abort.
    assert counts.streams_relayed == relayed, counts
    assert {beat.progress.stream for beat in region.beats[down_since:]} == {StreamState.DOWN}
    assert region.beats[-1].progress.model_dump(mode="json")["stream"] == "down, polling"


async def test_a_stream_that_comes_back_is_followed_again(local_cluster: LocalCluster, tmp_path: Path) -> None:
    async with _behind_a_proxy(local_cluster, tmp_path, poll_interval=SLOW_POLL) as (proxy, region):
        follow, _ = await _paused_with_streams_cut(local_cluster, region, proxy)
        proxy.streams.restore()
        await _paused_and_followed(local_cluster, region, "v2", StreamState.UP)
        last_look = region.beats[-1].at
        await _abort(local_cluster, region)

        result = await asyncio.wait_for(follow, SLOW_POLL)
        since_last_look = time.monotonic() - last_look
    print(f"\nfault proxy: {proxy.counts}; the abort ended the hand-off {since_last_look:.2f} s after its last look")
    assert result.outcome is HandoffOutcome.CANARY_FAILED, result.reason
    assert proxy.counts.streams_cut >= 1
    assert since_last_look < RECHECK / 2


async def test_with_streams_off_in_config_the_hand_off_only_polls(local_cluster: LocalCluster, tmp_path: Path) -> None:
    async with _behind_a_proxy(local_cluster, tmp_path, poll_interval=FALLBACK_POLL, streams=False) as (proxy, region):
        result = await region.hand_off("v1", QUICK)
    assert result.outcome is HandoffOutcome.HEALTHY, result.reason
    # For a proxy that buffers streamed answers: none is asked for, and the progress says the follower polls.
    assert proxy.counts.streams_relayed == 0, proxy.counts
    assert {beat.progress.stream for beat in region.beats if beat.progress.stream} == {StreamState.OFF}
