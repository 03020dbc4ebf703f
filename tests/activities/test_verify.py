"""The check activity's failures against a real Prometheus: a check that can never work stops at once, an
unreachable Prometheus is left to Temporal's retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import ErrorType, RegionToCheck, RunChecksInput, RunChecksResult
from activities.verify import VerifyActivities
from devstack.ports import free_port
from devstack.prometheus import run_prometheus
from rollwright.domain.identity import RegionTarget
from rollwright.domain.verification import CheckVerdict, VerificationCheck
from rollwright.prometheus import PrometheusClientConfig

TARGET = RegionTarget(service="api", environment="prod", region="us-east-1")


@pytest.fixture
async def prometheus(tmp_path: Path) -> AsyncIterator[str]:
    """A real Prometheus scraping itself only."""
    async with run_prometheus(tmp_path / "prometheus", []) as running:
        yield running.url


async def checked(address: str, query: str, condition: str = "result >= 0") -> RunChecksResult:
    verify = VerifyActivities(lambda where: PrometheusClientConfig(address=where))
    check = VerificationCheck(name="probe", query=query, success_condition=condition)
    request = RunChecksInput(checks=[check], regions=[RegionToCheck(target=TARGET, prometheus_address=address)])
    result: RunChecksResult = await ActivityEnvironment().run(verify.run_checks, request)
    return result


async def test_a_scalar_query_is_measured_and_judged(prometheus: str) -> None:
    result = await checked(prometheus, "vector(0.25)", "result <= 0.2")
    [verdict] = result.results
    assert verdict.verdict is CheckVerdict.FAILED
    assert verdict.value == 0.25
    assert verdict.detail == "probe in us-east-1 measured 0.25, needs result <= 0.2"


async def test_promql_that_prometheus_refuses_is_a_non_retryable_check_error(prometheus: str) -> None:
    with pytest.raises(ApplicationError) as error:
        await checked(prometheus, "sum(rate(x[5m])")
    assert error.value.type == ErrorType.CHECK_INVALID
    assert error.value.non_retryable
    assert "check 'probe' in api/prod/us-east-1" in error.value.message
    assert "refused query" in error.value.message


async def test_a_query_with_many_series_says_to_aggregate(prometheus: str) -> None:
    two = 'label_replace(vector(1), "x", "a", "", "") or label_replace(vector(2), "x", "b", "", "")'
    with pytest.raises(ApplicationError) as error:
        await checked(prometheus, two)
    assert error.value.type == ErrorType.CHECK_INVALID
    assert "gives 2 series; aggregate it" in error.value.message


async def test_an_unreachable_prometheus_is_retryable() -> None:
    with pytest.raises(ApplicationError) as error:
        await checked(f"http://127.0.0.1:{free_port()}", "vector(1)")
    assert not error.value.non_retryable
    assert "cannot reach Prometheus at http://127.0.0.1:" in error.value.message
