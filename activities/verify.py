"""Rollwright's own checks of live regions: every check in every region at one instant, judged against the
check's condition and, where it compares, against the regions this deployment has not changed yet.

Thin over `rollwright.prometheus`: Prometheus being unreachable is a retryable failure (Temporal tries again), a
check Prometheus refuses is not. A failed check is a result, never an exception, so the workflow decides.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, ErrorType, RegionToCheck, RunChecksInput, RunChecksResult
from activities.heartbeat import keeps_heartbeating
from activities.settings import prometheus_client_config
from rollwright.config.models import RollwrightConfig
from rollwright.domain.verification import CheckResult, VerificationCheck, judge
from rollwright.observability.logging import get_logger
from rollwright.prometheus import (
    PrometheusClient,
    PrometheusClientConfig,
    PrometheusQueryError,
    PrometheusUnavailableError,
)
from rollwright.secrets import SecretUnavailableError

log = get_logger(__name__)


class VerifyActivities:
    def __init__(self, client_config: Callable[[str], PrometheusClientConfig]) -> None:
        # Read per call, so a rotated token is picked up without restarting the worker.
        self._client_config = client_config

    async def _measure(
        self, prometheus: PrometheusClient, check: VerificationCheck, region: RegionToCheck, at: datetime
    ) -> float | None:
        target = region.target
        query = check.query_for(target.service, target.environment, target.region)
        try:
            return await prometheus.query(query, at=at)
        except PrometheusQueryError as exc:
            message = f"check {check.name!r} in {target.key}: {exc.message}"
            raise ApplicationError(message, type=ErrorType.CHECK_INVALID, non_retryable=True) from exc
        except PrometheusUnavailableError as exc:
            raise ApplicationError(f"check {check.name!r} in {target.key}: {exc.message}") from exc

    @activity.defn(name=ActivityName.RUN_CHECKS)
    @keeps_heartbeating
    async def run_checks(self, request: RunChecksInput) -> RunChecksResult:
        # One instant for every query: the changed regions and their baseline are compared over the same window.
        at = datetime.now(UTC)
        results: list[CheckResult] = []
        async with contextlib.AsyncExitStack() as stack:
            # One client (one connection pool) per Prometheus for the whole round.
            clients: dict[str, PrometheusClient] = {}
            for address in dict.fromkeys(region.prometheus_address for region in request.regions):
                try:
                    config = self._client_config(address)
                except SecretUnavailableError as exc:
                    message = f"Prometheus token: {exc}"
                    raise ApplicationError(message, type=ErrorType.CONFIG_INVALID, non_retryable=True) from exc
                clients[address] = await stack.enter_async_context(PrometheusClient(config))
            for check in request.checks:
                values = await asyncio.gather(
                    *(self._measure(clients[r.prometheus_address], check, r, at) for r in request.regions)
                )
                measured = list(zip(request.regions, values, strict=True))
                baselines = {region.target.region: value for region, value in measured if not region.changed}
                for region, value in measured:
                    if region.changed:
                        target = region.target
                        results.append(judge(check, target.environment, target.region, value, baselines))
        failed = [result.detail for result in results if result.failed]
        log.info("checks run", checks=len(request.checks), regions=len(request.regions), failed=failed)
        return RunChecksResult(at=at, results=results)


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    verify = VerifyActivities(lambda address: prometheus_client_config(config, address))
    return [verify.run_checks]
