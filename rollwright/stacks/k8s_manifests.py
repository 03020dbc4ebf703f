"""The Kubernetes manifests a web service runs on: pure functions from inputs to YAML text.

Every object carries its environment and region as labels, so a manifest that strays into the wrong
environment's directory (or points at another environment's resources) is refused by the policy pack.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import yaml

from rollwright.domain.digest import pinned_image
from rollwright.domain.durations import format_duration
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryCheck, CanaryStep, CheckProvider

ENVIRONMENT_LABEL = "rollwright.io/environment"
REGION_LABEL = "rollwright.io/region"
NAME_LABEL = "app.kubernetes.io/name"
ROLLOUT_FILE = "rollout.yaml"
SERVICE_FILE = "service.yaml"
CONFIGMAP_FILE = "configmap.yaml"
ANALYSIS_FILE = "analysis.yaml"
# The arguments every canary check may use; the canary's pod-template hash is filled in by the controller.
CANARY_HASH_ARG = "canary-hash"


def content_hash(manifests: dict[str, str]) -> str:
    """One hash over a region's files (path and content): equal hashes mean identical directories."""
    digest = hashlib.sha256()
    for path in sorted(manifests):
        digest.update(path.encode() + b"\0" + manifests[path].encode() + b"\0")
    return digest.hexdigest()


def labels(target: RegionTarget) -> dict[str, str]:
    return {NAME_LABEL: target.service, ENVIRONMENT_LABEL: target.environment, REGION_LABEL: target.region}


def config_map_name(target: RegionTarget) -> str:
    return f"{target.service}-config"


def _metadata(target: RegionTarget, name: str, namespace: str | None) -> dict[str, Any]:
    # Without a configured namespace template the environment is the namespace.
    return {"name": name, "namespace": namespace or target.environment, "labels": labels(target)}


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def canary_steps(steps: list[CanaryStep]) -> list[dict[str, Any]]:
    """Argo Rollouts steps: each weight, then its timed pause if it has one (never an indefinite `pause: {}`)."""
    rendered: list[dict[str, Any]] = []
    for step in steps:
        rendered.append({"setWeight": step.weight})
        if step.pause is not None and step.pause > timedelta(0):
            rendered.append({"pause": {"duration": format_duration(step.pause)}})
    return rendered


def analysis_template_name(target: RegionTarget) -> str:
    return f"{target.service}-canary"


def _analysis_args(target: RegionTarget) -> list[dict[str, Any]]:
    return [
        {"name": CANARY_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}},
        {"name": "service", "value": target.service},
        {"name": "environment", "value": target.environment},
        {"name": "region", "value": target.region},
    ]


def _metric(check: CanaryCheck, prometheus_address: str | None, target: RegionTarget) -> dict[str, Any]:
    if check.provider is CheckProvider.PROMETHEUS:
        if not prometheus_address:
            raise ValueError(
                f"canary check {check.name!r} asks Prometheus, but {target.environment} names no prometheus for "
                f"{target.region}"
            )
        provider: dict[str, Any] = {"prometheus": {"address": prometheus_address, "query": check.query}}
    else:
        web: dict[str, Any] = {"url": check.url}
        if check.json_path:
            web["jsonPath"] = check.json_path
        provider = {"web": web}
    metric: dict[str, Any] = {
        "name": check.name,
        "interval": format_duration(check.interval),
        "count": check.count,
        "failureLimit": check.failure_limit,
        "successCondition": check.success_condition,
        "provider": provider,
    }
    if check.initial_delay:
        metric["initialDelay"] = format_duration(check.initial_delay)
    return metric


def render_analysis_template(target: RegionTarget, analysis: CanaryAnalysis, namespace: str | None = None) -> str:
    """The canary's checks as an Argo Rollouts AnalysisTemplate, synced before the Rollout that names it."""
    metadata = _metadata(target, analysis_template_name(target), namespace)
    # Synced first: a Rollout naming a template that does not exist yet reads "AnalysisTemplate not found".
    metadata["annotations"] = {"argocd.argoproj.io/sync-wave": "-1"}
    return _dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisTemplate",
            "metadata": metadata,
            "spec": {
                "args": [{"name": arg["name"]} for arg in _analysis_args(target)],
                "metrics": [_metric(check, analysis.prometheus_address, target) for check in analysis.checks],
            },
        }
    )


def render_rollout(
    target: RegionTarget,
    repository: str,
    digest: str,
    replicas: int,
    steps: list[CanaryStep],
    port: int,
    analysis: CanaryAnalysis | None = None,
    namespace: str | None = None,
) -> str:
    selector = {NAME_LABEL: target.service}
    # No steps: straight to 100%. Rendered as `canary: {}`, as the live object reads, since `steps: []` is dropped by
    # the API server and Argo CD would show the Application OutOfSync for good.
    canary: dict[str, Any] = {"steps": canary_steps(steps)} if steps else {}
    if analysis is not None and analysis.checks and steps:
        # Background analysis from the first step on: a failed measurement aborts the canary wherever it is.
        canary["analysis"] = {
            "templates": [{"templateName": analysis_template_name(target)}],
            "startingStep": 1,
            "args": _analysis_args(target),
        }
    return _dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": _metadata(target, target.service, namespace),
            "spec": {
                "replicas": replicas,
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels(target)},
                    "spec": {
                        "containers": [
                            {
                                "name": target.service,
                                "image": pinned_image(repository, digest),
                                "ports": [{"name": "http", "containerPort": port}],
                                "envFrom": [{"configMapRef": {"name": config_map_name(target)}}],
                            }
                        ]
                    },
                },
                "strategy": {"canary": canary},
            },
        }
    )


def render_service(target: RegionTarget, port: int, namespace: str | None = None) -> str:
    return _dump(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _metadata(target, target.service, namespace),
            "spec": {
                "selector": {NAME_LABEL: target.service},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        }
    )


def render_config_map(
    target: RegionTarget, database_url: str, extra_env: dict[str, str], namespace: str | None = None
) -> str:
    data = {
        **{key: str(value) for key, value in sorted(extra_env.items())},
        "DATABASE_URL": database_url,
        "ROLLWRIGHT_ENVIRONMENT": target.environment,
        "ROLLWRIGHT_REGION": target.region,
    }
    return _dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _metadata(target, config_map_name(target), namespace),
            "data": data,
        }
    )
