"""Serving the receiver with uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio

import uvicorn
import uvloop
from temporalio.client import Client

from rollwright.config.models import RollwrightConfig
from rollwright.observability.logging import get_logger
from rollwright.webhooks.app import create_app
from rollwright.webhooks.receiver import ReceiverSettings

log = get_logger(__name__)


def split_listen(listen: str) -> tuple[str, int]:
    """`127.0.0.1:8080` / `[::1]:8080` / `:8080` → (host, port); a ValueError names what is wrong."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"listen address {listen!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def build_server(
    config: RollwrightConfig, client: Client, *, listen: str | None = None, settings: ReceiverSettings | None = None
) -> uvicorn.Server:
    host, port = split_listen(listen or config.webhooks.listen)
    app = create_app(config, client, settings)
    # uvicorn's access log would print /webhooks/<source>/<token> paths: it stays off, the app logs instead.
    # httptools, not uvicorn's pure-Python h11: parsing and writing HTTP cost more than Rollwright's own work did.
    uvicorn_config = uvicorn.Config(app, host=host, port=port, http="httptools", access_log=False, log_config=None)
    return uvicorn.Server(uvicorn_config)


async def serve(
    config: RollwrightConfig, client: Client, *, listen: str | None = None, settings: ReceiverSettings | None = None
) -> None:
    """Serve until SIGINT/SIGTERM, on the running loop (`event_loop` is the one `rollwright webhook` runs on)."""
    server = build_server(config, client, listen=listen, settings=settings)
    url = f"http://{server.config.host}:{server.config.port}"
    log.info("webhook receiver listening", url=url, docs=f"{url}/docs")
    await server.serve()


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop: a delivery crosses the loop four times (request, Temporal call and its answer, response), and
    uvloop's socket and callback handling costs a fraction of asyncio's."""
    return uvloop.new_event_loop()
