"""Serving the receiver with uvicorn until SIGINT/SIGTERM."""

from __future__ import annotations

import uvicorn
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


async def serve(
    config: RollwrightConfig, client: Client, *, listen: str | None = None, settings: ReceiverSettings | None = None
) -> None:
    host, port = split_listen(listen or config.webhooks.listen)
    app = create_app(config, client, settings)
    # uvicorn's access log would print /webhooks/<source>/<token> paths: it stays off, the app logs instead.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None))
    log.info("webhook receiver listening", url=f"http://{host}:{port}", docs=f"http://{host}:{port}/docs")
    await server.serve()
