"""The parts of Argo CD's API objects the client reads and sends, named as in the Argo CD API (v1alpha1).

Answers are parsed leniently (unknown fields ignored) because servers add fields between releases; requests
are built from these models and sent with camelCase keys, omitting unset fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ArgoModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# -- Application -----------------------------------------------------------------------------------


class ObjectMeta(ArgoModel):
    name: str
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: str | int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ApplicationSource(ArgoModel):
    repo_url: str = Field(alias="repoURL")
    path: str | None = None
    target_revision: str | None = None


class SyncPolicyAutomated(ArgoModel):
    enabled: bool | None = None
    prune: bool | None = None
    self_heal: bool | None = None


class SyncPolicy(ArgoModel):
    automated: SyncPolicyAutomated | None = None


class ApplicationDestination(ArgoModel):
    server: str | None = None
    namespace: str | None = None


class ApplicationSpec(ArgoModel):
    project: str | None = None
    source: ApplicationSource | None = None
    destination: ApplicationDestination | None = None
    sync_policy: SyncPolicy | None = None


class SyncStatus(ArgoModel):
    status: str
    revision: str | None = None


class HealthStatus(ArgoModel):
    status: str | None = None
    message: str | None = None


class SyncOperation(ArgoModel):
    revision: str | None = None
    prune: bool | None = None


class OperationInitiator(ArgoModel):
    username: str | None = None
    automated: bool | None = None


class Operation(ArgoModel):
    sync: SyncOperation | None = None
    initiated_by: OperationInitiator | None = None


class ResourceResult(ArgoModel):
    group: str | None = None
    version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    status: str | None = None
    message: str | None = None


class SyncOperationResult(ArgoModel):
    revision: str | None = None
    resources: list[ResourceResult] = Field(default_factory=list)

    def pruned(self, group: str, kind: str) -> set[tuple[str, str]]:
        """(namespace, name) of each object of a kind this sync deleted because its manifest was gone."""
        return {
            (r.namespace or "", r.name or "")
            for r in self.resources
            if (r.group or "") == group and r.kind == kind and r.status == "Pruned"
        }


class OperationState(ArgoModel):
    operation: Operation | None = None
    phase: str
    message: str | None = None
    sync_result: SyncOperationResult | None = None
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def completed(self) -> bool:
        return self.phase in ("Succeeded", "Failed", "Error")

    @property
    def revision(self) -> str | None:
        """The revision this operation is about: the result's once known, else the one requested."""
        if self.sync_result is not None and self.sync_result.revision:
            return self.sync_result.revision
        if self.operation is not None and self.operation.sync is not None:
            return self.operation.sync.revision
        return None


class ApplicationStatus(ArgoModel):
    sync: SyncStatus | None = None
    health: HealthStatus | None = None
    operation_state: OperationState | None = None
    reconciled_at: str | None = None


class Application(ArgoModel):
    metadata: ObjectMeta
    spec: ApplicationSpec = ApplicationSpec()
    operation: Operation | None = None
    status: ApplicationStatus = ApplicationStatus()


class ApplicationWatchEvent(ArgoModel):
    """One message of the application watch stream: a Kubernetes watch type (ADDED, MODIFIED, DELETED) and the
    Application as it is after that change."""

    type: str
    application: Application


# -- Resource tree and resources -------------------------------------------------------------------


class ResourceRef(ArgoModel):
    """Names one Kubernetes object; `group` is "" for core kinds (Service, ConfigMap)."""

    group: str = ""
    version: str
    kind: str
    namespace: str = ""
    name: str
    uid: str | None = None

    def query(self) -> dict[str, str]:
        """The query parameters GetResource and the v1 actions endpoint take for this object."""
        return {
            "namespace": self.namespace,
            "resourceName": self.name,
            "version": self.version,
            "group": self.group,
            "kind": self.kind,
        }


class ResourceNode(ResourceRef):
    parent_refs: list[ResourceRef] = Field(default_factory=list)
    health: HealthStatus | None = None
    images: list[str] = Field(default_factory=list)
    resource_version: str | None = None

    def ref(self) -> ResourceRef:
        return ResourceRef(
            group=self.group,
            version=self.version,
            kind=self.kind,
            namespace=self.namespace,
            name=self.name,
            uid=self.uid,
        )


class ApplicationTree(ArgoModel):
    nodes: list[ResourceNode] = Field(default_factory=list)

    def of_kind(self, group: str, kind: str) -> list[ResourceNode]:
        """Every resource of a kind, top-level or a child (AnalysisRuns are the Rollout's children)."""
        return [n for n in self.nodes if n.group == group and n.kind == kind]

    def managed(self, group: str, kind: str) -> list[ResourceNode]:
        """Top-level resources of a kind (children such as ReplicaSets have parentRefs)."""
        return [n for n in self.nodes if n.group == group and n.kind == kind and not n.parent_refs]


class ApplicationResourceResponse(ArgoModel):
    manifest: str


# -- Requests --------------------------------------------------------------------------------------


class InfoEntry(ArgoModel):
    name: str
    value: str


class ApplicationSyncRequest(ArgoModel):
    name: str
    revision: str | None = None
    prune: bool | None = None
    dry_run: bool | None = None
    infos: list[InfoEntry] | None = None


class ResourceActionParameters(ArgoModel):
    name: str
    value: str


class ResourceActionRunRequestV2(ArgoModel):
    name: str
    namespace: str
    resource_name: str
    version: str
    group: str
    kind: str
    action: str
    resource_action_parameters: list[ResourceActionParameters] | None = None
