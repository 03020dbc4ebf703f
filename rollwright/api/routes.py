"""The control API's routes, served beside the webhook receiver (rollwright/webhooks/app.py mounts them).

    POST /api/v1/{pause,resume,abort,approve}   a deployment a lane runs        body: DeploymentOrder
    POST /api/v1/promote                        a version into a lane now       body: PromoteOrder
    POST /api/v1/rollback                       lanes back, held                body: RollbackOrder
    POST /api/v1/deploy                         queue, or pin a lane            body: DeployOrder
    POST /api/v1/release                        lift holds                      body: ReleaseOrder
    POST /api/v1/unblock                        clear a bad mark                body: UnblockOrder
    POST /api/v1/freeze, /api/v1/unfreeze       stop the line, start it again   body: FreezeOrder, UnfreezeOrder
    GET  /api/v1/status[?service=S]             every lane of the service(s)

Every call: the bearer token first (401, nothing else read), then whether the operator holds any role (403), then
the body (422), then the operation, which checks the role for each environment it is about to touch (403) before
sending anything. What it forwards to a workflow is signed for that workflow under `api.control_key`, so the
workflow can tell the verified subject from a name typed into the Temporal UI.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic_core
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from rollwright.api.auth import IssuerUnavailable, TokenVerifier, Unauthenticated
from rollwright.api.paths import path_of
from rollwright.api.roles import authorizer, holds_a_role
from rollwright.config.models import RollwrightConfig
from rollwright.control import (
    control_deployment,
    deploy,
    freeze,
    promote,
    release,
    rollback,
    status,
    unblock,
    unfreeze,
)
from rollwright.control.acting import Acting, key_signer
from rollwright.control.errors import ControlError, one_line
from rollwright.control.models import (
    Action,
    DeploymentOrder,
    DeployOrder,
    FreezeOrder,
    PromoteOrder,
    ReleaseOrder,
    RollbackOrder,
    UnblockOrder,
    UnfreezeOrder,
)
from rollwright.domain.deployment import ControlName
from rollwright.observability.logging import get_logger

log = get_logger("rollwright.api")

MAX_BODY_BYTES = 64 * 1024

Run = Callable[[Acting, Any], Awaitable[Any]]
# What a call's log line says it was about (the orders' fields naming services and environments).
_SCOPE_FIELDS = {"service", "services", "all_services", "environment"}
# A header value carries printable ASCII only, and a quoted-string no quote or backslash: a token's garbled
# header fields end up in the reason.
_UNQUOTABLE_RE = re.compile(r'[^\x20-\x7e]|["\\]')


class ApiRefusal(BaseModel):
    error: str
    reason: str


def _refuse(status: int, error: str, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ApiRefusal(error=error, reason=reason).model_dump(), status_code=status, headers=headers)


def _field_of(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is over MAX_BODY_BYTES (counted as it arrives, whatever Content-Length says)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class ControlApi:
    def __init__(self, config: RollwrightConfig, client: Client, control_key: bytes, verifier: TokenVerifier) -> None:
        self._config = config
        self._client = client
        self._key = control_key
        self._verifier = verifier

    async def handle(self, request: Request, action: Action, order_type: type[BaseModel] | None, run: Run) -> Response:
        bound = log.bind(action=action.value)
        try:
            operator = await self._verifier.verify(request.headers.get("authorization"))
        except Unauthenticated as exc:
            bound.info("control refused", outcome="unauthenticated", status=401, reason=str(exc))
            challenge = 'Bearer realm="rollwright"'
            if exc.token_given:
                challenge += f', error="invalid_token", error_description="{_UNQUOTABLE_RE.sub("?", str(exc))}"'
            return _refuse(401, "unauthenticated", str(exc), {"www-authenticate": challenge})
        except IssuerUnavailable as exc:
            bound.warning("control refused", outcome="issuer_unavailable", status=503, reason=str(exc))
            return _refuse(503, "unavailable", str(exc))
        bound = bound.bind(subject=operator.subject)
        roles = self._config.api.roles
        if not holds_a_role(roles, operator):
            reason = f"{operator.subject} holds no role (groups: {', '.join(operator.groups) or 'none'})"
            bound.info("control refused", outcome="forbidden", status=403, reason=reason)
            return _refuse(403, "forbidden", reason)
        order: Any
        if order_type is None:
            order = request.query_params.get("service") or None
        else:
            body = await _read_body(request)
            if body is None:
                bound.info("control refused", outcome="invalid", status=413)
                return _refuse(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
            try:
                order = order_type.model_validate_json(body)
            except ValidationError as exc:
                reason = one_line(_field_of(exc))
                bound.info("control refused", outcome="invalid", status=422, reason=reason)
                return _refuse(422, "invalid_body", reason)
            bound = bound.bind(**order.model_dump(mode="json", include=_SCOPE_FIELDS, exclude_defaults=True))
        acting = Acting(
            actor=operator.subject,
            signer=key_signer(self._key, operator),
            authorizer=authorizer(roles, operator),
            via="api",
        )
        try:
            result = await run(acting, order)
        except ControlError as exc:
            bound.info("control refused", outcome=exc.error, status=exc.status_code, reason=str(exc))
            return _refuse(exc.status_code, exc.error, str(exc))
        except (RPCError, RuntimeError) as exc:  # the lazy client's connection, or a call it could not place
            reason = f"Temporal did not answer: {one_line(exc)}"
            bound.warning("control refused", outcome="unavailable", status=503, reason=reason)
            return _refuse(503, "unavailable", reason)
        bound.info("control done", outcome="ok", status=200)
        return Response(pydantic_core.to_json(result), media_type="application/json")

    def router(self) -> APIRouter:
        router = APIRouter(tags=["control"])
        client, config = self._client, self._config

        def deployment_control(control: ControlName) -> Run:
            async def run(acting: Acting, order: DeploymentOrder) -> Any:
                return await control_deployment(client, config, acting, control, order)

            return run

        async def run_promote(acting: Acting, order: PromoteOrder) -> Any:
            return await promote(client, config, acting, order)

        async def run_rollback(acting: Acting, order: RollbackOrder) -> Any:
            return await rollback(client, config, acting, order)

        async def run_deploy(acting: Acting, order: DeployOrder) -> Any:
            return await deploy(client, config, acting, order)

        async def run_release(acting: Acting, order: ReleaseOrder) -> Any:
            return await release(client, config, acting, order)

        async def run_unblock(acting: Acting, order: UnblockOrder) -> Any:
            return await unblock(config, acting, order)

        async def run_freeze(acting: Acting, order: FreezeOrder) -> Any:
            return await freeze(client, config, acting, order)

        async def run_unfreeze(acting: Acting, order: UnfreezeOrder) -> Any:
            return await unfreeze(client, config, acting, order)

        async def run_status(acting: Acting, service: str | None) -> Any:
            return await status(client, config, acting, service)

        posts: list[tuple[Action, type[BaseModel], Run]] = [
            *((Action(control.value), DeploymentOrder, deployment_control(control)) for control in ControlName),
            (Action.PROMOTE, PromoteOrder, run_promote),
            (Action.ROLLBACK, RollbackOrder, run_rollback),
            (Action.DEPLOY, DeployOrder, run_deploy),
            (Action.RELEASE, ReleaseOrder, run_release),
            (Action.UNBLOCK, UnblockOrder, run_unblock),
            (Action.FREEZE, FreezeOrder, run_freeze),
            (Action.UNFREEZE, UnfreezeOrder, run_unfreeze),
        ]
        for action, order_type, run in posts:
            self._post(router, action, order_type, run)

        @router.get(path_of(Action.STATUS), summary="Every lane of a service (or of every service you may see)")
        async def get_status(request: Request) -> Response:
            return await self.handle(request, Action.STATUS, None, run_status)

        return router

    def _post(self, router: APIRouter, action: Action, order_type: type[BaseModel], run: Run) -> None:
        async def endpoint(request: Request) -> Response:
            return await self.handle(request, action, order_type, run)

        router.add_api_route(
            path_of(action),
            endpoint,
            methods=["POST"],
            summary=f"{action.value} (body: {order_type.__name__})",
            openapi_extra={
                "requestBody": {"content": {"application/json": {"schema": order_type.model_json_schema()}}}
            },
            responses={status: {"model": ApiRefusal} for status in (401, 403, 404, 409, 413, 422, 503)},
        )
