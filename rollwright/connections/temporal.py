"""A Temporal client from the config's `temporal` section (pydantic payloads, TLS and API key if set)."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from rollwright.config.models import TemporalConfig
from rollwright.observability.logging import register_secret
from rollwright.secrets import read_secret


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


def exit_without_finalizing(code: int) -> NoReturn:
    """End a process that used a Temporal client, once everything it opened is closed.

    The client's Rust core keeps native threads that can abort CPython's finalization (SIGABRT,
    "PyGILState_Release: thread state must be current"; temporalio/sdk-python#300), which would turn a
    successful command into exit status -6. Nothing is left to finalize, so skip it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
