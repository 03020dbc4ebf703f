"""The webhook receiver as an ASGI app (FastAPI, OpenAPI docs at /docs).

    POST /webhooks/{source}            a registry says an image was pushed
    POST /webhooks/{source}/{token}    the same, for registries that can only put a secret in the URL
    GET  /healthz                      the process is up
    GET  /readyz                       Temporal answers

A delivery is a hint: it is answered 202 once Temporal holds the signal; the pipeline re-resolves the
tag against the registry before anything is deployed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.client import Client

from rollwright.config.models import RollwrightConfig
from rollwright.observability.logging import get_logger
from rollwright.webhooks.body import read_bounded
from rollwright.webhooks.errors import WebhookError
from rollwright.webhooks.receiver import DeliveryReport, Receiver, ReceiverSettings
from rollwright.webhooks.sources import SOURCES

log = get_logger(__name__)


class Refusal(BaseModel):
    error: str
    reason: str
    field: str | None = None


class Health(BaseModel):
    status: str
    temporal: str | None = None


_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Refusal, "description": description}
    for status, description in {
        400: "the body is not JSON",
        401: "credential missing or wrong, or none configured for the source",
        404: "unknown source",
        413: "body over the size limit (1 MiB by default)",
        415: "content type is not JSON",
        422: "JSON of the wrong shape; `field` names the first bad field",
        503: "Temporal did not accept the push; retry",
    }.items()
}

_SOURCES_DOC = "\n".join(f"- `{name}`: {source.title}" for name, source in SOURCES.items())


def create_app(config: RollwrightConfig, client: Client, settings: ReceiverSettings | None = None) -> FastAPI:
    """Build the app. Fails at once (WebhookAuthConfigError) when a configured secret cannot be read."""
    receiver = Receiver(config, client, settings)
    app = FastAPI(
        title="Rollwright webhook receiver",
        description="Registry push notifications in; per-service pipeline workflows fed.\n\nSources:\n" + _SOURCES_DOC,
        version="0.1.0",
    )
    app.state.receiver = receiver

    async def deliver(request: Request, source: str, token: str | None) -> JSONResponse:
        try:
            receiver.check_source(source)
            body = await read_bounded(
                request.headers.get("content-length"), request.stream(), receiver.settings.max_body_bytes
            )
            report = await receiver.receive(source, request.headers, body, path_token=token)
        except WebhookError as exc:
            log.info("delivery refused", source=source[:64], status=exc.status_code, reason=exc.reason)
            refusal = Refusal(error=exc.error, reason=exc.reason, field=exc.field)
            return JSONResponse(refusal.model_dump(exclude_none=True), status_code=exc.status_code)
        return JSONResponse(report.model_dump(mode="json"), status_code=202)

    responses: dict[int | str, dict[str, Any]] = {202: {"model": DeliveryReport}, **_REFUSALS}
    description = "The body is the source's own JSON payload; see the source list above."

    @app.post("/webhooks/{source}", status_code=202, responses=responses, summary="Receive a push notification")
    async def receive(request: Request, source: str) -> JSONResponse:
        """Authenticated by an HMAC signature (github, generic) or a token header."""
        return await deliver(request, source, None)

    @app.post(
        "/webhooks/{source}/{token}",
        status_code=202,
        responses=responses,
        summary="Receive a push notification (token in the path)",
        description=description,
    )
    async def receive_with_token(request: Request, source: str, token: str) -> JSONResponse:
        return await deliver(request, source, token)

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", summary="Temporal is reachable", responses={503: {"model": Health}})
    async def readyz() -> JSONResponse:
        if await receiver.ready():
            return JSONResponse(Health(status="ready", temporal="reachable").model_dump())
        return JSONResponse(Health(status="not_ready", temporal="unreachable").model_dump(), status_code=503)

    return app
