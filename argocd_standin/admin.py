"""`/standin/*`: what tests and the demo control — applications, failure rules, injected faults."""

from __future__ import annotations

import random
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from argocd_standin.controller import AppController
from argocd_standin.rules import FailureRule
from argocd_standin.state import Faults

router = APIRouter(prefix="/standin")


class AppRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    target_revision: str | None = None
    automated: bool = False
    dest_namespace: str | None = None
    service: str | None = None
    environment: str | None = None
    region: str | None = None


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[FailureRule]


def _controller(request: Request) -> AppController:
    controller: AppController = request.app.state.controller
    return controller


@router.put("/applications/{name}")
async def register_application(request: Request, name: str, body: AppRegistration) -> dict[str, Any]:
    app = _controller(request).register(name, **body.model_dump())
    return {"name": app.name, "path": app.path, "automated": app.automated}


@router.get("/applications")
async def list_applications(request: Request) -> dict[str, Any]:
    apps = _controller(request).apps
    return {"applications": [{"name": a.name, "path": a.path, "automated": a.automated} for a in apps.values()]}


@router.put("/rules")
async def set_rules(request: Request, body: Rules) -> Rules:
    controller = _controller(request)
    controller.store.state.rules = body.rules
    controller.store.save()
    return body


@router.get("/rules")
async def get_rules(request: Request) -> Rules:
    return Rules(rules=_controller(request).store.state.rules)


@router.put("/faults")
async def set_faults(request: Request, body: Faults) -> Faults:
    controller = _controller(request)
    controller.store.state.faults = body
    controller.store.save()
    request.app.state.rng = random.Random(body.seed)
    return body


@router.get("/faults")
async def get_faults(request: Request) -> Faults:
    return _controller(request).store.state.faults


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Counters tests use to prove a fault really happened."""
    return {"injected_faults": request.app.state.injected_faults}
