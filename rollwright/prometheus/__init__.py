"""A typed client for Prometheus' instant-query API: what Rollwright's own verification checks measure with."""

from rollwright.prometheus.client import (
    PrometheusClient,
    PrometheusClientConfig,
    PrometheusError,
    PrometheusQueryError,
    PrometheusUnavailableError,
)

__all__ = [
    "PrometheusClient",
    "PrometheusClientConfig",
    "PrometheusError",
    "PrometheusQueryError",
    "PrometheusUnavailableError",
]
