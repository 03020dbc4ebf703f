"""Stand-in state rendered in Argo CD's JSON shapes: v1alpha1Application, v1alpha1ApplicationTree, and
applicationApplicationResourceResponse (the live object as a JSON string)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from argocd_standin.rules import versions_of
from argocd_standin.settings import StandinSettings
from argocd_standin.state import AppRecord, LiveResource

IN_CLUSTER = "https://kubernetes.default.svc"
# gitops-engine's health order, best to worst: an application is as unhealthy as its worst resource.
HEALTH_ORDER = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]


def resource_health(res: LiveResource) -> dict[str, str] | None:
    """Health as Argo CD's built-in checks report it (Rollouts: resource_customizations health.lua)."""
    if res.group == "argoproj.io" and res.kind == "Rollout":
        status = res.object.get("status", {})
        generation = str(res.object["metadata"].get("generation", 1))
        if status.get("observedGeneration") != generation:
            return {"status": "Progressing", "message": "Waiting for rollout spec update to be observed"}
        phase = status.get("phase")
        if phase == "Degraded":
            return {"status": "Degraded", "message": str(status.get("message", ""))}
        if phase == "Paused":
            return {"status": "Suspended", "message": "Rollout is paused"}
        if phase == "Healthy":
            return {"status": "Healthy"}
        return {"status": "Progressing", "message": str(status.get("message") or "")}
    if res.group == "" and res.kind in ("Service", "Pod"):
        return {"status": "Healthy"}
    return None


def app_health(app: AppRecord) -> dict[str, str]:
    worst: dict[str, str] = {"status": "Healthy"}
    for res in app.resources:
        health = resource_health(res)
        if health and HEALTH_ORDER.index(health["status"]) > HEALTH_ORDER.index(worst["status"]):
            worst = health
    return worst


def _source(app: AppRecord) -> dict[str, Any]:
    return {"repoURL": app.repo_url, "path": app.path, "targetRevision": app.target_revision}


def _destination(app: AppRecord) -> dict[str, Any]:
    return {"server": IN_CLUSTER, "namespace": app.dest_namespace}


def application(app: AppRecord, settings: StandinSettings) -> dict[str, Any]:
    labels = {
        k: v
        for k, v in (
            ("rollwright.io/service", app.service),
            ("rollwright.io/environment", app.environment),
            ("rollwright.io/region", app.region),
        )
        if v
    }
    sync_policy: dict[str, Any] = (
        {"automated": {"enabled": True, "prune": True, "selfHeal": False}} if app.automated else {}
    )
    status: dict[str, Any] = {
        "sync": {
            "status": app.sync_status,
            "revision": app.sync_revision or "",
            "comparedTo": {"source": _source(app), "destination": _destination(app)},
        },
        "health": app_health(app),
        "resources": [
            {
                "group": r.group,
                "version": r.version,
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "status": "Synced",
            }
            for r in app.resources
        ],
        "history": app.history,
        "sourceType": "Directory",
        "summary": {"images": sorted({i for r in app.resources for i in versions_of(r.object)[0] if i})},
        "resourceHealthSource": "appTree",
        "controllerNamespace": settings.namespace,
        "conditions": app.conditions,
    }
    if app.reconciled_at:
        status["reconciledAt"] = app.reconciled_at
    if app.operation_state:
        status["operationState"] = app.operation_state
    body: dict[str, Any] = {
        "metadata": {
            "name": app.name,
            "namespace": settings.namespace,
            "uid": app.uid,
            "resourceVersion": str(app.resource_version),
            "generation": app.resource_version,
            "creationTimestamp": app.created_at,
            "labels": labels,
        },
        "spec": {
            "project": app.project,
            "source": _source(app),
            "destination": _destination(app),
            "syncPolicy": sync_policy,
        },
        "status": status,
    }
    if app.operation:
        body["operation"] = app.operation
    return body


def _ref(res: LiveResource) -> dict[str, Any]:
    meta = res.object["metadata"]
    return {
        "group": res.group,
        "version": res.version,
        "kind": res.kind,
        "namespace": res.namespace,
        "name": res.name,
        "uid": meta.get("uid", ""),
    }


def _node(res: LiveResource) -> dict[str, Any]:
    meta = res.object["metadata"]
    node: dict[str, Any] = {
        **_ref(res),
        "resourceVersion": str(meta.get("resourceVersion", "1")),
        "createdAt": meta.get("creationTimestamp"),
    }
    health = resource_health(res)
    if health:
        node["health"] = health
    images = [i for i in versions_of(res.object)[0] if i]
    if images:
        node["images"] = images
    return node


def _replica_sets(res: LiveResource) -> list[dict[str, Any]]:
    """The Rollout's stable and canary ReplicaSets, children with parentRefs as in a real tree."""
    status = res.object.get("status", {})
    hashes = [h for h in dict.fromkeys([status.get("stableRS"), status.get("currentPodHash")]) if h]
    revision = res.object["metadata"].get("annotations", {}).get("rollout.argoproj.io/revision", "1")
    nodes = []
    for pod_hash in hashes:
        name = f"{res.name}-{pod_hash}"
        nodes.append(
            {
                "group": "apps",
                "version": "v1",
                "kind": "ReplicaSet",
                "namespace": res.namespace,
                "name": name,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{res.object['metadata'].get('uid')}/{name}")),
                "parentRefs": [_ref(res)],
                "info": [{"name": "Revision", "value": f"Rev:{revision}"}],
                "health": {"status": "Healthy"},
                "resourceVersion": "1",
                "createdAt": res.object["metadata"].get("creationTimestamp"),
            }
        )
    return nodes


def tree(app: AppRecord) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    for res in app.resources:
        nodes.append(_node(res))
        if res.group == "argoproj.io" and res.kind == "Rollout":
            nodes.extend(_replica_sets(res))
    return {"nodes": nodes, "hosts": [], "shardsCount": 1}


def resource(res: LiveResource) -> dict[str, Any]:
    return {"manifest": json.dumps(res.object)}
