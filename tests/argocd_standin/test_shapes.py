"""Every stand-in answer the client reads validates against Argo CD's own definitions (strict models)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from argocd_standin.process import RunningStandin
from tests.argocd_standin.gitops_repo import GitOpsRepo
from tests.argocd_standin.swagger_shapes import (
    ApplicationApplicationResourceResponse,
    RuntimeError_,
    V1alpha1Application,
    V1alpha1ApplicationTree,
)

APP = "api-staging-local-a"
BASE = f"/api/v1/applications/{APP}"
ROLLOUT = {"resourceName": "api", "kind": "Rollout", "group": "argoproj.io", "version": "v1alpha1", "namespace": ""}


async def wait_phase(http: httpx.AsyncClient, phase: str) -> dict[str, Any]:
    for _ in range(300):
        response = await http.get(f"{BASE}/resource", params=ROLLOUT)
        if response.status_code == 200:  # before the sync applies it, the Rollout is not in the app
            live: dict[str, Any] = json.loads(response.json()["manifest"])
            if live["status"].get("phase") == phase:
                return live
        await asyncio.sleep(0.01)
    raise AssertionError(f"Rollout never reached {phase}")


async def test_application_tree_and_resource_answers_match_argocd_definitions(
    gitops: GitOpsRepo, standin: RunningStandin
) -> None:
    sha1 = gitops.deploy("staging", "local-a", "api", "v1")
    seen: list[tuple[str, dict[str, Any]]] = []
    headers = {"Authorization": f"Bearer {standin.token}"}
    async with httpx.AsyncClient(base_url=standin.url, headers=headers) as http:

        async def record(kind: str, response: httpx.Response) -> dict[str, Any]:
            assert response.status_code == 200, response.text
            seen.append((kind, response.json()))
            return seen[-1][1]

        await record("app", await http.get(BASE, params={"refresh": "normal"}))  # never synced
        await record("app", await http.post(f"{BASE}/sync", json={"revision": sha1, "prune": True}))  # operation set
        await wait_phase(http, "Healthy")
        sha2 = gitops.deploy("staging", "local-a", "api", "v2", steps=[{"setWeight": 30}, {"pause": {}}])
        await http.post(f"{BASE}/sync", json={"revision": sha2, "infos": [{"name": "rollwright", "value": "wf"}]})
        await wait_phase(http, "Paused")
        for _ in range(2):  # mid-canary, then aborted
            await record("app", await http.get(BASE, params={"refresh": "normal"}))
            await record("tree", await http.get(f"{BASE}/resource-tree"))
            resource = await record("resource", await http.get(f"{BASE}/resource", params=ROLLOUT))
            await http.post(f"{BASE}/resource/actions/v2", json={**ROLLOUT, "action": "abort"})
            await wait_phase(http, "Degraded")
        await http.post(f"{BASE}/sync", json={"revision": "main"})
        errors = [
            await http.post(f"{BASE}/sync", json={"revision": "main"}),  # the first is still running
            await http.get("/api/v1/applications/none-such"),
            await http.get(f"{BASE}/resource", params={**ROLLOUT, "resourceName": "other"}),
        ]

    models: dict[str, type[BaseModel]] = {
        "app": V1alpha1Application,
        "tree": V1alpha1ApplicationTree,
        "resource": ApplicationApplicationResourceResponse,
    }
    for kind, body in seen:
        models[kind].model_validate(body)
    assert [kind for kind, _ in seen].count("app") == 4
    live = json.loads(resource["manifest"])
    assert live["apiVersion"] == "argoproj.io/v1alpha1"
    assert {"phase", "currentStepIndex", "currentPodHash", "stableRS", "observedGeneration"} <= set(live["status"])
    assert [e.status_code for e in errors] == [400, 404, 400]
    assert "another operation is already in progress" in errors[0].text
    for error in errors:
        RuntimeError_.model_validate(error.json())


def test_the_strict_models_reject_a_drifted_shape() -> None:
    with pytest.raises(ValidationError, match="revison"):
        V1alpha1Application.model_validate({"status": {"sync": {"status": "Synced", "revison": "abc"}}})
    with pytest.raises(ValidationError, match="id"):
        V1alpha1Application.model_validate({"status": {"history": [{"id": "1"}]}})
    with pytest.raises(ValidationError, match="createdAt"):
        V1alpha1ApplicationTree.model_validate({"nodes": [{"kind": "Rollout", "createdAt": "yesterday"}]})
