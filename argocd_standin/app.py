"""The stand-in's ASGI app: routes, bearer-token auth, fault injection, and the controller loop."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from argocd_standin import admin, api
from argocd_standin.controller import AppController
from argocd_standin.errors import StandinError, unauthenticated
from argocd_standin.gitrepo import GitRepo
from argocd_standin.settings import StandinSettings
from argocd_standin.state import Store
from rollwright.observability.logging import get_logger

log = get_logger(__name__)
VERSION = "v3.5.1+standin"
_OPEN_PATHS = ("/healthz", "/api/version")


async def _control_loop(controller: AppController) -> None:
    while True:
        try:
            await controller.tick()
        except Exception:
            # One bad tick (a git hiccup) must not stop every rollout; the next tick retries.
            log.exception("controller tick failed")
        await asyncio.sleep(controller.settings.tick)


def create_app(settings: StandinSettings) -> FastAPI:
    store = Store(settings.state_file)
    controller = AppController(settings, store, GitRepo(settings.repo))

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_control_loop(controller))
        log.info("argocd stand-in ready", repo=str(settings.repo), apps=len(controller.apps), speed=settings.speed)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            store.save()

    app = FastAPI(title="Argo CD stand-in (Rollwright test/demo aid)", lifespan=lifespan)
    app.state.controller = controller
    app.state.rng = random.Random(store.state.faults.seed)
    app.state.injected_faults = 0
    app.include_router(api.router)
    app.include_router(admin.router)

    @app.exception_handler(StandinError)
    async def _standin_error(_: Request, exc: StandinError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.http_status)

    @app.middleware("http")
    async def _auth_and_faults(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path in _OPEN_PATHS:
            return await call_next(request)
        if request.headers.get("authorization", "") != f"Bearer {settings.token}":
            error = unauthenticated("invalid session: token signature is invalid")
            return JSONResponse(error.body(), status_code=error.http_status)
        if not path.startswith("/api/"):
            return await call_next(request)
        faults = store.state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        rng: random.Random = request.app.state.rng
        if faults.error_rate and rng.random() < faults.error_rate:
            request.app.state.injected_faults += 1
            # Half the faults lose the answer of a request that did happen, as a proxy timing out would.
            if rng.random() < 0.5:
                await call_next(request)
                return JSONResponse({"code": 14, "message": "standin: injected fault (upstream unavailable)"}, 503)
            return PlainTextResponse("<html><body>502 Bad Gateway (standin: injected fault)</body></html>", 502)
        return await call_next(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/version")
    async def version() -> dict[str, str]:
        return {"Version": VERSION}

    return app
