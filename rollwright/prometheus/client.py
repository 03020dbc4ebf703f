"""Instant queries against Prometheus' HTTP API (`/api/v1/query`), each answered as one number or none.

Sent once, like every Rollwright client: a 5xx, timeout or lost connection is PrometheusUnavailableError at
once and Temporal retries the activity; a query Prometheus refuses (400/422: bad PromQL) or one that comes back
as more than one series is PrometheusQueryError, which no retry can fix.
"""

from __future__ import annotations

import math
import ssl
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from rollwright.http_settings import ConnectRetries, Timeouts


class PrometheusError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PrometheusUnavailableError(PrometheusError):
    """Prometheus could not be asked or did not answer: trying again later may work."""


class PrometheusQueryError(PrometheusError):
    """Prometheus refused the query, or its answer is not one number: the check is wrong, not the moment."""


class PrometheusClientConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(min_length=1, description="e.g. http://prometheus.monitoring:9090")
    token: SecretStr | None = Field(default=None, description="sent as a bearer token")
    verify_tls: bool = True
    ca_file: str | None = None
    timeouts: Timeouts = Timeouts()
    connect_retries: ConnectRetries = ConnectRetries()


class _Sample(BaseModel):
    value: tuple[float, str]


class _Data(BaseModel):
    result_type: Literal["vector", "scalar", "matrix", "string"] = Field(alias="resultType")
    result: Any


class _Answer(BaseModel):
    status: Literal["success", "error"]
    data: _Data | None = None
    error: str | None = None


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value


def _one_value(data: _Data, query: str) -> float | None:
    if data.result_type == "scalar":
        return _number(str(data.result[1]))
    if data.result_type != "vector":
        raise PrometheusQueryError(f"query {query!r} gives a {data.result_type}, not a number; use an instant vector")
    samples = [_Sample.model_validate(item) for item in data.result]
    if not samples:
        return None
    if len(samples) > 1:
        raise PrometheusQueryError(
            f"query {query!r} gives {len(samples)} series; aggregate it (sum, avg, max) down to one number"
        )
    return _number(samples[0].value[1])


class PrometheusClient:
    """`async with PrometheusClient(config) as prom: value = await prom.query(promql, at=now)`."""

    def __init__(self, config: PrometheusClientConfig) -> None:
        self._config = config
        headers = {"Accept": "application/json"}
        if config.token is not None:
            headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
        verify: bool | ssl.SSLContext = config.verify_tls
        if config.verify_tls and config.ca_file:
            verify = ssl.create_default_context(cafile=config.ca_file)
        self._http = httpx.AsyncClient(
            base_url=config.address.rstrip("/"),
            headers=headers,
            timeout=config.timeouts.for_httpx(),
            transport=config.connect_retries.transport(verify=verify),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def query(self, promql: str, *, at: datetime) -> float | None:
        """The query's value at `at`; None when it has no data (no series, or NaN as 0/0 gives)."""
        where = f"Prometheus at {self._config.address}"
        try:
            response = await self._http.post("/api/v1/query", data={"query": promql, "time": f"{at.timestamp():.3f}"})
        except httpx.TransportError as exc:
            raise PrometheusUnavailableError(f"cannot reach {where}: {exc!r}") from exc
        if response.status_code in (401, 403):
            raise PrometheusQueryError(f"{where} refused the credentials ({response.status_code}); check the token")
        if response.status_code >= 500 or response.status_code == 429:
            raise PrometheusUnavailableError(f"{where} answered {response.status_code}: {response.text[:200]}")
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError as exc:
            raise PrometheusQueryError(
                f"{where} answered {response.status_code} with no query result: {response.text[:200]!r}"
            ) from exc
        if answer.status == "error" or answer.data is None:
            raise PrometheusQueryError(f"{where} refused query {promql!r}: {answer.error or response.text[:200]}")
        return _one_value(answer.data, promql)
