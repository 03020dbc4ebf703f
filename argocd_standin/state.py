"""Everything the stand-in knows, in one JSON file, so a restart keeps applications and rollouts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from argocd_standin.rules import FailureRule


class Faults(BaseModel):
    """Injected misbehaviour of the Argo CD API (never of /standin admin endpoints)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of API answers replaced by a 5xx")
    latency_ms: float = Field(default=0.0, ge=0)
    actions_v2: bool = Field(default=True, description="False: behave like Argo CD < 3.1 (no actions/v2 route)")
    seed: int | None = None


class LiveResource(BaseModel):
    """One applied object: what `GET …/resource` serves, plus simulation bookkeeping it never serves."""

    object: dict[str, Any]
    sim: dict[str, Any] = Field(default_factory=dict)

    @property
    def group(self) -> str:
        api_version = str(self.object.get("apiVersion", ""))
        return api_version.split("/", 1)[0] if "/" in api_version else ""

    @property
    def version(self) -> str:
        return str(self.object.get("apiVersion", "")).rsplit("/", 1)[-1]

    @property
    def kind(self) -> str:
        return str(self.object.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.object["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.object["metadata"].get("namespace", ""))

    def key(self) -> tuple[str, str, str, str]:
        return (self.group, self.kind, self.namespace, self.name)


class AppRecord(BaseModel):
    name: str
    uid: str
    created_at: str
    repo_url: str
    path: str
    target_revision: str
    project: str = "default"
    dest_namespace: str = "default"
    automated: bool = False
    service: str | None = None
    environment: str | None = None
    region: str | None = None
    resource_version: int = 1
    operation: dict[str, Any] | None = None
    operation_state: dict[str, Any] | None = None
    op_started: float | None = None
    sync_revision: str | None = Field(default=None, description="status.sync.revision: the last compared commit")
    applied_revision: str | None = Field(default=None, description="the commit whose manifests are live")
    sync_status: str = "OutOfSync"
    history: list[dict[str, Any]] = Field(default_factory=list)
    resources: list[LiveResource] = Field(default_factory=list)
    reconciled_at: str | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    last_auto_sync_check: float = 0.0

    def find(self, group: str, kind: str, namespace: str, name: str) -> LiveResource | None:
        for res in self.resources:
            if res.group == group and res.kind == kind and res.name == name and namespace in ("", res.namespace):
                return res
        return None


class StandinState(BaseModel):
    applications: dict[str, AppRecord] = Field(default_factory=dict)
    rules: list[FailureRule] = Field(default_factory=list)
    faults: Faults = Faults()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = StandinState.model_validate_json(path.read_text()) if path.exists() else StandinState()

    def save(self) -> None:
        """Write atomically: a crash mid-write leaves the previous state, never half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(self.state.model_dump_json())
        os.replace(tmp, self.path)
