"""The hand-off rides out a faulty Argo CD and still reaches the right outcome, on the real stack: 30% of Argo CD's
answers failing with 5xx behind 200 ms of latency (a fault-injecting proxy in front of the real argocd-server), and
the real argocd-server killed and restarted while a real canary is paused. No false rollback, and a real failure
still fails."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster
from devstack.faultproxy import run_fault_proxy
from devstack.leftovers import SESSION_MARKER, processes_with_marker
from devstack.traffic import RunningTraffic
from rollwright.argocd.follow import Stage
from rollwright.domain.plan import CanaryAnalysis, CanaryStep
from tests.handoff.regions import SUCCESS_RATE, Region, digest_of, open_region

# Long enough (8 s) for the analysis to fail a bad canary: its second failed measurement comes at about 7 s.
STEPS = [CanaryStep(weight=25, pause="4s"), CanaryStep(weight=50, pause="4s")]
ERROR_RATIO, LATENCY, SEED = 0.3, 0.2, 13
# Longer than the client's connection retries (0.5 + 1 s), so the follower surely meets the outage.
DOWN_SECONDS = 3.0


async def test_30_percent_5xx_and_200_ms_from_argo_cd_still_reach_the_right_outcomes(
    local_cluster: LocalCluster, tmp_path: Path, measured: tuple[RunningTraffic, str]
) -> None:
    traffic, prometheus = measured
    async with (
        run_fault_proxy(local_cluster.argocd_url, error_ratio=ERROR_RATIO, latency=LATENCY, seed=SEED) as proxy,
        open_region(local_cluster, tmp_path, server=proxy.url) as region,
    ):
        region.analysis = CanaryAnalysis(checks=[SUCCESS_RATE], prometheus_address=prometheus)
        first = await region.hand_off("v1", STEPS)
        assert first.outcome is HandoffOutcome.HEALTHY, first.reason

        good = await region.hand_off("v2", STEPS)
        good_waits = region.waits()
        traffic.fail(digest_of("v3"), 0.2)
        bad = await region.hand_off("v3", STEPS)

    counts = proxy.counts
    print(f"\nfault proxy: {counts} (seed {SEED})")
    # About 90 requests go through in all, so some 27 fail; fewer than 10 would prove nothing.
    assert counts.failed >= 10, f"the proxy failed too few answers to prove anything: {counts} (seed {SEED})"
    assert good_waits, "the good version's hand-off met no failed answer"
    assert good.outcome is HandoffOutcome.HEALTHY, f"{good.reason} (seed {SEED})"
    assert (good.step_index, good.weight) == (4, 100)
    assert bad.outcome is HandoffOutcome.CANARY_FAILED, f"{bad.reason} (seed {SEED})"
    assert bad.reason is not None
    assert 'Metric "success-rate" assessed Failed' in bad.reason
    # What the AnalysisRun measured is read through the same faulty Argo CD, and still named.
    assert "success-rate measured 0.8" in bad.reason, bad.reason


async def _followed_in_pause(local_cluster: LocalCluster, region: Region, tag: str) -> None:
    """Return once the real Rollout (read from the kube API, not through Argo CD) pauses in `tag`'s canary and the
    hand-off follows it there (past its sync)."""
    path = f"/apis/argoproj.io/v1alpha1/namespaces/{region.namespace}/rollouts/{region.target.service}"
    deadline = time.monotonic() + 60
    async with local_cluster.kube() as kube:
        while time.monotonic() < deadline:
            live = await kube.get_or_none(path)
            paused = live and digest_of(tag) in str(live["spec"]) and (live.get("status") or {}).get("pauseConditions")
            if paused and any(beat.progress.stage is Stage.FOLLOWING for beat in region.beats):
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{tag} never paused in its canary with its hand-off following")


async def test_argocd_server_killed_and_restarted_mid_canary_still_ends_healthy(
    local_cluster: LocalCluster, region: Region
) -> None:
    first = await region.hand_off("v1", STEPS)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    old_pid = local_cluster.pids["argocd-server"]
    follow = asyncio.create_task(region.hand_off("v2", STEPS))
    await _followed_in_pause(local_cluster, region, "v2")

    gone = await local_cluster.restart_argocd_server(down=DOWN_SECONDS)

    result = await asyncio.wait_for(follow, 120)
    print(f"\nargocd-server was gone {gone:.1f} s")
    assert result.outcome is HandoffOutcome.HEALTHY, result.reason
    assert (result.step_index, result.weight) == (4, 100)
    assert any("cannot reach Argo CD" in wait for wait in region.waits()), region.waits()
    new_pid = local_cluster.pids["argocd-server"]
    assert new_pid != old_pid
    # The restarted server is still the session's: the leftover check at its end sees it.
    assert new_pid in [pid for pid, _ in processes_with_marker(os.environ[SESSION_MARKER])]
    # Rollwright's token, issued before the restart, is still good: the signing key lives in argocd-secret.
    async with local_cluster.argocd() as argo:
        listed = await argo.get("/api/v1/applications")
    assert listed.status_code == 200, listed.text
    assert region.app in [item["metadata"]["name"] for item in listed.json()["items"]]
