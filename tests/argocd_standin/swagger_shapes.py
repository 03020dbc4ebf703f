"""Strict models of the Argo CD API definitions the client uses, written from Argo CD's swagger (v3.5).

Names match the swagger definitions (`v1alpha1Application` → V1alpha1Application). Every model forbids
fields the definition does not have and checks types strictly (int64 as integers, timestamps as RFC 3339
strings), so a stand-in answer that drifts from the real shape fails validation. Only definitions reached
from the three the client reads are here; fields the stand-in never sends are still declared when the
swagger has them, so a valid real-world shape is never rejected.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

Time = Annotated[StrictStr, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class V1OwnerReference(Strict):
    apiVersion: StrictStr | None = None
    blockOwnerDeletion: StrictBool | None = None
    controller: StrictBool | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None
    uid: StrictStr | None = None


class V1ObjectMeta(Strict):
    annotations: dict[str, StrictStr] | None = None
    creationTimestamp: Time | None = None
    deletionGracePeriodSeconds: StrictInt | None = None
    deletionTimestamp: Time | None = None
    finalizers: list[StrictStr] | None = None
    generateName: StrictStr | None = None
    generation: StrictInt | None = None
    labels: dict[str, StrictStr] | None = None
    managedFields: list[dict[str, Any]] | None = None
    name: StrictStr | None = None
    namespace: StrictStr | None = None
    ownerReferences: list[V1OwnerReference] | None = None
    resourceVersion: StrictStr | None = None
    selfLink: StrictStr | None = None
    uid: StrictStr | None = None


class V1alpha1Info(Strict):
    name: StrictStr | None = None
    value: StrictStr | None = None


class V1alpha1OperationInitiator(Strict):
    automated: StrictBool | None = None
    username: StrictStr | None = None


class V1alpha1Backoff(Strict):
    duration: StrictStr | None = None
    factor: StrictInt | None = None
    maxDuration: StrictStr | None = None


class V1alpha1RetryStrategy(Strict):
    backoff: V1alpha1Backoff | None = None
    limit: StrictInt | None = None
    refresh: StrictBool | None = None


class V1alpha1ApplicationSource(Strict):
    chart: StrictStr | None = None
    directory: dict[str, Any] | None = None
    helm: dict[str, Any] | None = None
    kustomize: dict[str, Any] | None = None
    name: StrictStr | None = None
    path: StrictStr | None = None
    plugin: dict[str, Any] | None = None
    ref: StrictStr | None = None
    repoURL: StrictStr | None = None
    tagPrefix: StrictStr | None = None
    targetRevision: StrictStr | None = None


class V1alpha1SyncOperationResource(Strict):
    group: StrictStr | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None
    namespace: StrictStr | None = None


class V1alpha1SyncStrategyApply(Strict):
    force: StrictBool | None = None


class V1alpha1SyncStrategyHook(Strict):
    syncStrategyApply: V1alpha1SyncStrategyApply | None = None


class V1alpha1SyncStrategy(Strict):
    apply: V1alpha1SyncStrategyApply | None = None
    hook: V1alpha1SyncStrategyHook | None = None


class V1alpha1SyncOperation(Strict):
    autoHealAttemptsCount: StrictInt | None = None
    dryRun: StrictBool | None = None
    manifests: list[StrictStr] | None = None
    prune: StrictBool | None = None
    resources: list[V1alpha1SyncOperationResource] | None = None
    revision: StrictStr | None = None
    revisions: list[StrictStr] | None = None
    source: V1alpha1ApplicationSource | None = None
    sources: list[V1alpha1ApplicationSource] | None = None
    syncOptions: list[StrictStr] | None = None
    syncStrategy: V1alpha1SyncStrategy | None = None


class V1alpha1Operation(Strict):
    info: list[V1alpha1Info] | None = None
    initiatedBy: V1alpha1OperationInitiator | None = None
    retry: V1alpha1RetryStrategy | None = None
    sync: V1alpha1SyncOperation | None = None


class V1alpha1ApplicationDestination(Strict):
    name: StrictStr | None = None
    namespace: StrictStr | None = None
    server: StrictStr | None = None


class V1alpha1SyncPolicyAutomated(Strict):
    allowEmpty: StrictBool | None = None
    enabled: StrictBool | None = None
    prune: StrictBool | None = None
    selfHeal: StrictBool | None = None


class V1alpha1SyncPolicy(Strict):
    automated: V1alpha1SyncPolicyAutomated | None = None
    managedNamespaceMetadata: dict[str, Any] | None = None
    retry: V1alpha1RetryStrategy | None = None
    syncOptions: list[StrictStr] | None = None


class V1alpha1ApplicationSpec(Strict):
    destination: V1alpha1ApplicationDestination | None = None
    ignoreDifferences: list[dict[str, Any]] | None = None
    info: list[V1alpha1Info] | None = None
    project: StrictStr | None = None
    revisionHistoryLimit: StrictInt | None = None
    source: V1alpha1ApplicationSource | None = None
    sourceHydrator: dict[str, Any] | None = None
    sources: list[V1alpha1ApplicationSource] | None = None
    syncPolicy: V1alpha1SyncPolicy | None = None


class V1alpha1HealthStatus(Strict):
    lastTransitionTime: Time | None = None
    message: StrictStr | None = None
    status: StrictStr | None = None


class V1alpha1ApplicationCondition(Strict):
    lastTransitionTime: Time | None = None
    message: StrictStr | None = None
    type: StrictStr | None = None


class V1alpha1RevisionHistory(Strict):
    deployStartedAt: Time | None = None
    deployedAt: Time | None = None
    id: StrictInt | None = None
    initiatedBy: V1alpha1OperationInitiator | None = None
    revision: StrictStr | None = None
    revisions: list[StrictStr] | None = None
    source: V1alpha1ApplicationSource | None = None
    sources: list[V1alpha1ApplicationSource] | None = None


class V1alpha1ResourceResult(Strict):
    group: StrictStr | None = None
    hookPhase: StrictStr | None = None
    hookType: StrictStr | None = None
    images: list[StrictStr] | None = None
    kind: StrictStr | None = None
    message: StrictStr | None = None
    name: StrictStr | None = None
    namespace: StrictStr | None = None
    status: StrictStr | None = None
    syncPhase: StrictStr | None = None
    version: StrictStr | None = None


class V1alpha1SyncOperationResult(Strict):
    managedNamespaceMetadata: dict[str, Any] | None = None
    resources: list[V1alpha1ResourceResult] | None = None
    revision: StrictStr | None = None
    revisions: list[StrictStr] | None = None
    source: V1alpha1ApplicationSource | None = None
    sources: list[V1alpha1ApplicationSource] | None = None


class V1alpha1OperationState(Strict):
    finishedAt: Time | None = None
    message: StrictStr | None = None
    operation: V1alpha1Operation | None = None
    phase: StrictStr | None = None
    retryCount: StrictInt | None = None
    startedAt: Time | None = None
    syncResult: V1alpha1SyncOperationResult | None = None


class ApplicationV1alpha1ResourceStatus(Strict):
    group: StrictStr | None = None
    health: V1alpha1HealthStatus | None = None
    hook: StrictBool | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None
    namespace: StrictStr | None = None
    requiresDeletionConfirmation: StrictBool | None = None
    requiresPruning: StrictBool | None = None
    status: StrictStr | None = None
    syncWave: StrictInt | None = None
    version: StrictStr | None = None


class V1alpha1ApplicationSummary(Strict):
    externalURLs: list[StrictStr] | None = None
    images: list[StrictStr] | None = None
    isAppOfApps: StrictBool | None = None


class V1alpha1ComparedTo(Strict):
    destination: V1alpha1ApplicationDestination | None = None
    ignoreDifferences: list[dict[str, Any]] | None = None
    source: V1alpha1ApplicationSource | None = None
    sources: list[V1alpha1ApplicationSource] | None = None


class V1alpha1SyncStatus(Strict):
    comparedTo: V1alpha1ComparedTo | None = None
    revision: StrictStr | None = None
    revisions: list[StrictStr] | None = None
    status: StrictStr | None = None


class V1alpha1ApplicationStatus(Strict):
    conditions: list[V1alpha1ApplicationCondition] | None = None
    controllerNamespace: StrictStr | None = None
    health: V1alpha1HealthStatus | None = None
    history: list[V1alpha1RevisionHistory] | None = None
    observedAt: Time | None = None
    operationState: V1alpha1OperationState | None = None
    reconciledAt: Time | None = None
    resourceHealthSource: StrictStr | None = None
    resources: list[ApplicationV1alpha1ResourceStatus] | None = None
    sourceHydrator: dict[str, Any] | None = None
    sourceType: StrictStr | None = None
    sourceTypes: list[StrictStr] | None = None
    summary: V1alpha1ApplicationSummary | None = None
    sync: V1alpha1SyncStatus | None = None


class V1alpha1Application(Strict):
    metadata: V1ObjectMeta | None = None
    operation: V1alpha1Operation | None = None
    spec: V1alpha1ApplicationSpec | None = None
    status: V1alpha1ApplicationStatus | None = None


class V1alpha1ResourceRef(Strict):
    group: StrictStr | None = None
    kind: StrictStr | None = None
    name: StrictStr | None = None
    namespace: StrictStr | None = None
    uid: StrictStr | None = None
    version: StrictStr | None = None


class V1alpha1InfoItem(Strict):
    name: StrictStr | None = None
    value: StrictStr | None = None


class V1alpha1ResourceNode(V1alpha1ResourceRef):
    """swagger: allOf [v1alpha1ResourceRef] plus these fields."""

    createdAt: Time | None = None
    health: V1alpha1HealthStatus | None = None
    images: list[StrictStr] | None = None
    info: list[V1alpha1InfoItem] | None = None
    networkingInfo: dict[str, Any] | None = None
    parentRefs: list[V1alpha1ResourceRef] | None = None
    resourceVersion: StrictStr | None = None


class V1alpha1ApplicationTree(Strict):
    hosts: list[dict[str, Any]] | None = None
    nodes: list[V1alpha1ResourceNode] | None = None
    orphanedNodes: list[V1alpha1ResourceNode] | None = None
    shardsCount: StrictInt | None = None


class ApplicationApplicationResourceResponse(Strict):
    manifest: StrictStr | None = None


class RuntimeError_(Strict):
    code: StrictInt | None = None
    details: list[dict[str, Any]] | None = None
    error: StrictStr | None = None
    message: StrictStr | None = None
