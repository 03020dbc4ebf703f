"""A Temporal client from the config's `temporal` section (pydantic payloads, TLS and API key if set)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from deployconfig.models import TemporalConfig
from deployconfig.secrets import read_secret
from observability.logging import register_secret


async def connect_temporal(config: TemporalConfig, *, lazy: bool = False) -> Client:
    """`lazy=True` returns at once and connects on first use (the receiver starts before Temporal does)."""
    api_key = None
    if config.api_key is not None:
        api_key = read_secret(config.api_key)
        register_secret(api_key)
    return await Client.connect(
        config.address,
        namespace=config.namespace,
        api_key=api_key,
        tls=config.tls,
        data_converter=pydantic_data_converter,
        lazy=lazy,
    )
