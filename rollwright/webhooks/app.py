"""The webhook receiver as an ASGI app (FastAPI, OpenAPI docs at /docs).

    POST /webhooks/{source}            a registry says an image was pushed
    POST /webhooks/{source}/{token}    the same, for registries that can only put a secret in the URL
    GET  /healthz                      the process is up
    GET  /readyz                       Temporal answers
    /api/v1/...                        the control API, when `api` names an issuer (rollwright/api)

A delivery is a hint: it is answered 202 once Temporal holds the signal; the lane re-resolves the
tag against the registry before anything is deployed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send
from temporalio.client import Client

from rollwright.api import control_router
from rollwright.config.models import RollwrightConfig
from rollwright.webhooks.delivery import Refusal, answer_delivery, deliver, delivery_route
from rollwright.webhooks.receiver import DeliveryReport, Receiver, ReceiverSettings
from rollwright.webhooks.sources import SOURCES


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


class ReceiverApp(FastAPI):
    """The FastAPI app, whose delivery routes are answered before any of FastAPI's own work (delivery.py)."""

    def __init__(self, receiver: Receiver, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = delivery_route(scope)
        if route is None:
            await super().__call__(scope, receive, send)
        else:
            await answer_delivery(self._receiver, route, scope, receive, send)


def create_app(config: RollwrightConfig, client: Client, settings: ReceiverSettings | None = None) -> FastAPI:
    """Build the app. Fails at once (WebhookAuthConfigError, SecretUnavailableError for api.control_key) when a
    configured secret cannot be read."""
    receiver = Receiver(config, client, settings)
    control = control_router(config, client)
    app = ReceiverApp(
        receiver,
        title="Rollwright webhook receiver",
        description="Registry push notifications in; each service's first lane fed.\n\nSources:\n" + _SOURCES_DOC,
        version="0.1.0",
    )
    # ReceiverApp answers the two delivery routes below before FastAPI routes anything; these make the docs.

    async def answer(request: Request, source: str, token: str | None) -> Response:
        status, body = await deliver(receiver, source, token, request.headers, request.stream())
        return Response(body, status_code=status, media_type="application/json")

    responses: dict[int | str, dict[str, Any]] = {202: {"model": DeliveryReport}, **_REFUSALS}
    description = "The body is the source's own JSON payload; see the source list above."

    @app.post("/webhooks/{source}", status_code=202, responses=responses, summary="Receive a push notification")
    async def receive(request: Request, source: str) -> Response:
        """Authenticated by an HMAC signature (github, generic) or a token header."""
        return await answer(request, source, None)

    @app.post(
        "/webhooks/{source}/{token}",
        status_code=202,
        responses=responses,
        summary="Receive a push notification (token in the path)",
        description=description,
    )
    async def receive_with_token(request: Request, source: str, token: str) -> Response:
        return await answer(request, source, token)

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", summary="Temporal is reachable", responses={503: {"model": Health}})
    async def readyz() -> JSONResponse:
        if await receiver.ready():
            return JSONResponse(Health(status="ready", temporal="reachable").model_dump())
        return JSONResponse(Health(status="not_ready", temporal="unreachable").model_dump(), status_code=503)

    if control is not None:
        # Routed by FastAPI like the probes: ReceiverApp answers the delivery paths before any of this.
        app.include_router(control)
    return app
