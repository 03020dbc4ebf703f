"""The Argo CD REST endpoints Rollwright uses, served from the stand-in's state in Argo CD's shapes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from argocd_standin import shapes
from argocd_standin.controller import AppController
from argocd_standin.errors import invalid_argument, not_found
from argocd_standin.state import AppRecord, LiveResource

ROLLOUT_ACTIONS = ["restart", "resume", "abort", "retry", "pause", "promote-full", "skip-current-step"]

router = APIRouter(prefix="/api/v1/applications")


def _controller(request: Request) -> AppController:
    controller: AppController = request.app.state.controller
    return controller


def _resource(app: AppRecord, group: str, kind: str, namespace: str, name: str) -> LiveResource:
    if not name or not kind:
        raise invalid_argument("resourceName and kind are required")
    res = app.find(group, kind, namespace, name)
    if res is None:
        raise invalid_argument(f"{kind} {namespace}/{name} not found as part of application {app.name}")
    return res


@router.post("")
async def create_application(body: Annotated[dict[str, Any], Body()], upsert: bool = False) -> dict[str, Any]:
    """Accepted and answered as Argo CD does; the stand-in derives its Applications from the GitOps repository."""
    name = (body.get("metadata") or {}).get("name")
    source = (body.get("spec") or {}).get("source") or {}
    if not name or not source.get("repoURL") or not source.get("path"):
        raise invalid_argument("metadata.name, spec.source.repoURL and spec.source.path are required")
    return {**body, "status": {}}


@router.get("/{name}")
async def get_application(request: Request, name: str, refresh: str | None = None) -> dict[str, Any]:
    controller = _controller(request)
    app = await controller.get(name)
    if refresh is not None:
        if refresh not in ("normal", "hard"):
            raise invalid_argument(f"refresh must be 'normal' or 'hard', not {refresh!r}")
        await controller.refresh(app)
    return shapes.application(app, controller.settings)


@router.post("/{name}/sync")
async def sync(request: Request, name: str, body: Annotated[dict[str, Any] | None, Body()] = None) -> dict[str, Any]:
    controller = _controller(request)
    app = await controller.get(name)
    body = body or {}
    infos = body.get("infos") or []
    if not isinstance(infos, list) or not all(isinstance(i, dict) and "name" in i for i in infos):
        raise invalid_argument("infos must be a list of {name, value}")
    revision = body.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise invalid_argument("revision must be a string")
    controller.start_sync(app, revision or None, prune=bool(body.get("prune", False)), infos=infos)
    return shapes.application(app, controller.settings)


@router.delete("/{name}/operation")
async def terminate_operation(request: Request, name: str) -> dict[str, Any]:
    controller = _controller(request)
    controller.terminate(await controller.get(name))
    return {}


@router.get("/{name}/resource-tree")
async def resource_tree(request: Request, name: str) -> dict[str, Any]:
    return shapes.tree(await _controller(request).get(name))


@router.get("/{name}/resource")
async def get_resource(
    request: Request,
    name: str,
    resource_name: Annotated[str, Query(alias="resourceName")] = "",
    kind: str = "",
    group: str = "",
    namespace: str = "",
    version: str = "",
) -> dict[str, Any]:
    app = await _controller(request).get(name)
    return shapes.resource(_resource(app, group, kind, namespace, resource_name))


@router.get("/{name}/resource/actions")
async def list_actions(
    request: Request,
    name: str,
    resource_name: Annotated[str, Query(alias="resourceName")] = "",
    kind: str = "",
    group: str = "",
    namespace: str = "",
) -> dict[str, Any]:
    app = await _controller(request).get(name)
    res = _resource(app, group, kind, namespace, resource_name)
    names = ROLLOUT_ACTIONS if res.kind == "Rollout" else []
    return {"actions": [{"name": n, "disabled": False} for n in names]}


@router.post("/{name}/resource/actions/v2")
async def run_action_v2(request: Request, name: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    controller = _controller(request)
    if not controller.store.state.faults.actions_v2:
        raise not_found("Not Found")  # what a server before Argo CD 3.1 answers: no such route
    app = await controller.get(name)
    controller.act(
        app,
        str(body.get("group", "")),
        str(body.get("kind", "")),
        str(body.get("namespace", "")),
        str(body.get("resourceName", "")),
        str(body.get("action", "")),
    )
    return {}


@router.post("/{name}/resource/actions")
async def run_action_v1(
    request: Request,
    name: str,
    action: Annotated[Any, Body()],
    resource_name: Annotated[str, Query(alias="resourceName")] = "",
    kind: str = "",
    group: str = "",
    namespace: str = "",
) -> dict[str, Any]:
    if not isinstance(action, str):
        raise invalid_argument("the v1 actions body is the action name as a JSON string")
    controller = _controller(request)
    app = await controller.get(name)
    controller.act(app, group, kind, namespace, resource_name, action)
    return {}
