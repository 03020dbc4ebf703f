"""Rollwright's own checks measured for real: three regions of the local cluster run by the real Argo Rollouts,
traffic that fails per version, the real Prometheus scraping it, and Rollwright's check activity comparing the
region under change with the two still on the previous version."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.contracts import RegionToCheck, RunChecksInput, RunChecksResult
from activities.verify import VerifyActivities
from devstack.cluster import LocalCluster
from devstack.traffic import RunningTraffic
from rollwright.domain.plan import CanaryStep
from rollwright.domain.verification import BaselineComparison, CheckVerdict, VerificationCheck
from rollwright.prometheus import PrometheusClientConfig
from tests.handoff.regions import Region, digest_of, open_region

STRAIGHT = [CanaryStep(weight=100)]
# The error ratio of one region's service, over the last 10 s (Prometheus scrapes every second).
ERROR_RATIO = VerificationCheck(
    name="error-ratio",
    query='sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}",code=~"5.."}'
    '[10s])) / sum(rate(http_requests_total{service="{{service}}",namespace="{{environment}}-{{region}}"}[10s]))',
    success_condition="result <= 0.05",
    compare_to_baseline=BaselineComparison(max_degradation=0.02),
)
WINDOW_SECONDS = 12  # the query's 10 s window plus two scrapes: only the current error ratio is in it


@pytest.fixture
async def three_regions(local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[list[Region]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_region(local_cluster, tmp_path / name)) for name in "abc"]


async def run_checks(prometheus: str, changed: Region, untouched: list[Region]) -> RunChecksResult:
    verify = VerifyActivities(lambda address: PrometheusClientConfig(address=address))
    regions = [RegionToCheck(target=changed.target, prometheus_address=prometheus)] + [
        RegionToCheck(target=region.target, prometheus_address=prometheus, changed=False) for region in untouched
    ]
    result: RunChecksResult = await ActivityEnvironment().run(
        verify.run_checks, RunChecksInput(checks=[ERROR_RATIO], regions=regions)
    )
    return result


async def test_a_region_worse_than_its_untouched_neighbours_fails_though_under_the_threshold_and_as_good_passes(
    three_regions: list[Region], measured: tuple[RunningTraffic, str]
) -> None:
    traffic, prometheus = measured
    changed, *untouched = three_regions
    traffic.fail(digest_of("v1"), 0.01)
    traffic.fail(digest_of("v2"), 0.04)
    results = await asyncio.gather(
        changed.hand_off("v2", STRAIGHT), *(region.hand_off("v1", STRAIGHT) for region in untouched)
    )
    assert all(result.outcome.value == "healthy" for result in results), results
    await asyncio.sleep(WINDOW_SECONDS)

    worse = await run_checks(prometheus, changed, untouched)

    [verdict] = worse.results
    assert verdict.verdict is CheckVerdict.FAILED
    assert verdict.value == pytest.approx(0.04, abs=0.004)
    assert verdict.baseline == pytest.approx(0.01, abs=0.002)
    assert "worse than" in verdict.detail
    assert "at most 0.02 allowed" in verdict.detail

    traffic.fail(digest_of("v2"), 0.012)
    await asyncio.sleep(WINDOW_SECONDS)

    as_good = await run_checks(prometheus, changed, untouched)

    [verdict] = as_good.results
    assert verdict.verdict is CheckVerdict.PASSED, verdict.detail
    assert verdict.value == pytest.approx(0.012, abs=0.003)
