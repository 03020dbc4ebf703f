"""The local cluster runs the real thing: a Rollout's canary walks its steps under the real Argo Rollouts controller
(pods faked by kwok), an abort degrades it, and the real Argo CD syncs an Application from a `file://` repository to
an exact revision, all through the same APIs Rollwright uses."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import yaml

from devstack.cluster import ClusterStartError, LocalCluster, run_local_cluster
from devstack.cluster.crds import CRD_API
from devstack.cluster.kube import Json, KubeApi, condition_true, object_path, wait_until
from devstack.leftovers import SESSION_MARKER, processes_with_marker

ARGOPROJ_API = "argoproj.io/v1alpha1"
IMAGE_V1 = "registry.local/web:v1"
IMAGE_V2 = "registry.local/web:v2"
PAUSE = 2  # seconds, each timed pause step
TIMED_STEPS: list[Json] = [
    {"setWeight": 25},
    {"pause": {"duration": f"{PAUSE}s"}},
    {"setWeight": 50},
    {"pause": {"duration": f"{PAUSE}s"}},
]
# Paused until told otherwise: the canary sits there for the abort.
OPEN_PAUSE: list[Json] = [{"setWeight": 50}, {"pause": {}}]
WAIT = 60.0


def rollout(name: str, image: str, steps: list[Json], namespace: str | None = None) -> Json:
    metadata: Json = {"name": name} | ({"namespace": namespace} if namespace else {})
    return {
        "apiVersion": ARGOPROJ_API,
        "kind": "Rollout",
        "metadata": metadata,
        "spec": {
            "replicas": 4,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            "strategy": {"canary": {"steps": steps}},
        },
    }


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _rollout_path(namespace: str, name: str) -> str:
    return object_path(ARGOPROJ_API, "Rollout", name, namespace)


def _settled_phase(obj: Json) -> str | None:
    """The controller's phase, once it has seen the latest spec."""
    status = obj.get("status") or {}
    if str(status.get("observedGeneration")) != str(obj["metadata"]["generation"]):
        return None
    phase: str | None = status.get("phase")
    return phase


async def _wait_phase(kube: KubeApi, namespace: str, name: str, phase: str) -> Json:
    last: Json = {}

    async def reached() -> Json | None:
        nonlocal last
        last = await kube.get(_rollout_path(namespace, name))
        return last if _settled_phase(last) == phase else None

    return await wait_until(
        reached, timeout=WAIT, what=f"Rollout {namespace}/{name} {phase}", last_seen=lambda: str(last.get("status"))
    )


async def _replica_set_image(kube: KubeApi, namespace: str, pod_hash: str) -> str:
    listed = await kube.get(
        object_path("apps/v1", "ReplicaSet", namespace=namespace),
        params={"labelSelector": f"rollouts-pod-template-hash={pod_hash}"},
    )
    (replica_set,) = listed["items"]
    image: str = replica_set["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def _set_image(kube: KubeApi, namespace: str, name: str, image: str) -> None:
    await kube.json_patch(
        _rollout_path(namespace, name),
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}],
    )


async def test_every_part_is_up_and_healthy(local_cluster: LocalCluster) -> None:
    cluster = local_cluster
    rss = sum(psutil.Process(pid).memory_info().rss for pid in cluster.pids.values())
    print(f"\nlocal cluster started in {cluster.startup_seconds:.1f}s; {len(cluster.pids)} processes, "
          f"{rss / 2**20:.0f} MB resident")  # fmt: skip
    assert set(cluster.pids) == {
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "rollouts-controller",
        "redis", "argocd-repo-server", "argocd-application-controller", "argocd-server",
    }  # fmt: skip
    for name, pid in cluster.pids.items():
        assert psutil.Process(pid).is_running(), name

    async with cluster.kube() as kube:
        assert await kube.healthy("/readyz")
        crds = await kube.get(object_path(CRD_API, "CustomResourceDefinition"))
        established = {crd["metadata"]["name"] for crd in crds["items"] if condition_true(crd, "Established")}
        assert {"rollouts.argoproj.io", "analysisruns.argoproj.io", "analysistemplates.argoproj.io",
                "applications.argoproj.io", "appprojects.argoproj.io"} <= established  # fmt: skip
        nodes = (await kube.get("/api/v1/nodes"))["items"]
        assert {node["metadata"]["labels"][cluster.region_label] for node in nodes} == set(cluster.regions)
        assert all(condition_true(node, "Ready") for node in nodes)
        admin = await kube.get(object_path("v1", "Secret", "argocd-initial-admin-secret", cluster.argocd_namespace))
        assert admin["data"]["password"]

    async with cluster.argocd() as argo:
        assert (await argo.get("/healthz")).status_code == 200
        listed = await argo.get("/api/v1/applications")
        assert listed.status_code == 200, listed.text
        assert isinstance(listed.json().get("items") or [], list)
        user = (await argo.get("/api/v1/session/userinfo")).json()
        assert user["loggedIn"] is True
        assert user["username"] == "rollwright"
    async with cluster.argocd(token="not-a-token") as stranger:
        assert (await stranger.get("/api/v1/applications")).status_code == 401


async def test_a_canary_walks_its_steps_to_healthy(local_cluster: LocalCluster) -> None:
    namespace = await local_cluster.create_namespace(_unique("canary"), region=local_cluster.regions[0])
    name = "web"
    try:
        async with local_cluster.kube() as kube:
            await kube.apply(rollout(name, IMAGE_V1, TIMED_STEPS, namespace))
            # The first version has nothing to be a canary of: it goes straight to Healthy.
            first = await _wait_phase(kube, namespace, name, "Healthy")
            assert first["status"]["availableReplicas"] == 4
            stable = first["status"]["stableRS"]

            started = time.monotonic()
            await _set_image(kube, namespace, name, IMAGE_V2)
            seen: list[tuple[int | None, str | None]] = []

            async def healthy_again() -> Json | None:
                obj = await kube.get(_rollout_path(namespace, name))
                status = obj.get("status") or {}
                step = (status.get("currentStepIndex"), _settled_phase(obj))
                if not seen or seen[-1] != step:
                    seen.append(step)
                done = step[1] == "Healthy" and status.get("stableRS") == status.get("currentPodHash") != stable
                return obj if done else None

            done = await wait_until(healthy_again, timeout=WAIT, what="the canary to finish", interval=0.1)
            walked = time.monotonic() - started

        status = done["status"]
        assert status["currentStepIndex"] == len(TIMED_STEPS)
        assert (1, "Paused") in seen, seen
        assert (3, "Paused") in seen, seen
        # The controller stamps a pause's start in whole seconds, so a "2s" pause may end just over 1 s later.
        assert walked >= 2 * (PAUSE - 1), f"both {PAUSE}s pauses were waited: {walked:.1f}s"
        assert status["readyReplicas"] == 4
        async with local_cluster.kube() as kube:
            assert await _replica_set_image(kube, namespace, status["stableRS"]) == IMAGE_V2
    finally:
        await local_cluster.delete_namespace(namespace)


async def test_an_aborted_canary_is_degraded_and_keeps_the_stable_version(local_cluster: LocalCluster) -> None:
    namespace = await local_cluster.create_namespace(_unique("abort"))
    name = "web"
    try:
        async with local_cluster.kube() as kube:
            await kube.apply(rollout(name, IMAGE_V1, OPEN_PAUSE, namespace))
            stable = (await _wait_phase(kube, namespace, name, "Healthy"))["status"]["stableRS"]
            await _set_image(kube, namespace, name, IMAGE_V2)
            paused = await _wait_phase(kube, namespace, name, "Paused")
            assert paused["status"]["currentStepIndex"] == 1

            # What `kubectl argo rollouts abort` does.
            await kube.merge_patch(_rollout_path(namespace, name) + "/status", {"status": {"abort": True}})
            degraded = await _wait_phase(kube, namespace, name, "Degraded")

            assert degraded["status"]["abort"] is True
            assert "RolloutAborted" in degraded["status"]["message"]
            assert degraded["status"]["stableRS"] == stable
            assert await _replica_set_image(kube, namespace, stable) == IMAGE_V1
    finally:
        await local_cluster.delete_namespace(namespace)


def _git(*args: str, cwd: Path) -> str:
    env_args = ["-c", "user.name=Rollwright Tests", "-c", "user.email=tests@rollwright.invalid"]
    done = subprocess.run(["git", *env_args, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _bare_repo_with(tmp_path: Path, files: dict[str, Any]) -> tuple[Path, str]:
    """A bare repository (what Argo CD reads) holding `files` as YAML in one commit; its path and the commit."""
    bare, work = tmp_path / "gitops.git", tmp_path / "work"
    _git("init", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    _git("clone", str(bare), str(work), cwd=tmp_path)
    for relative, content in files.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content))
    _git("add", ".", cwd=work)
    _git("commit", "-m", "web v1", cwd=work)
    _git("push", "origin", "HEAD:main", cwd=work)
    return bare, _git("rev-parse", "HEAD", cwd=work)


async def _application(argo: httpx.AsyncClient, name: str) -> Json:
    response = await argo.get(f"/api/v1/applications/{name}")
    assert response.status_code == 200, response.text
    app: Json = response.json()
    return app


async def test_argo_cd_syncs_an_application_to_a_revision(local_cluster: LocalCluster, tmp_path: Path) -> None:
    name = _unique("web")
    bare, revision = _bare_repo_with(tmp_path, {"web/rollout.yaml": rollout("web", IMAGE_V1, TIMED_STEPS)})
    namespace = await local_cluster.create_namespace(_unique("synced"), region=local_cluster.regions[-1])
    application = {
        "metadata": {"name": name, "namespace": local_cluster.argocd_namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": f"file://{bare}", "path": "web", "targetRevision": "main"},
            "destination": {"server": local_cluster.argocd_destination, "namespace": namespace},
        },
    }
    try:
        async with local_cluster.argocd() as argo:
            listed = (await argo.get("/api/v1/applications")).json()
            assert name not in {app["metadata"]["name"] for app in listed.get("items") or []}
            created = await argo.post("/api/v1/applications", json=application)
            assert created.status_code == 200, created.text

            synced = await argo.post(f"/api/v1/applications/{name}/sync", json={"revision": revision})
            assert synced.status_code == 200, synced.text
            last: Json = {}

            async def synced_and_healthy() -> Json | None:
                nonlocal last
                last = await _application(argo, name)
                status = last.get("status") or {}
                operation = status.get("operationState") or {}
                done = (
                    operation.get("phase") == "Succeeded"
                    and (operation.get("syncResult") or {}).get("revision") == revision
                    and status.get("sync", {}).get("status") == "Synced"
                    and status.get("health", {}).get("status") == "Healthy"
                )
                return last if done else None

            await wait_until(
                synced_and_healthy,
                timeout=WAIT,
                what=f"Application {name} Synced and Healthy at {revision[:8]}",
                last_seen=lambda: str({k: (last.get("status") or {}).get(k) for k in ("sync", "health")}),
            )
            listed = (await argo.get("/api/v1/applications")).json()
            assert name in {app["metadata"]["name"] for app in listed.get("items") or []}

        async with local_cluster.kube() as kube:
            live = await _wait_phase(kube, namespace, "web", "Healthy")
            assert live["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE_V1
    finally:
        async with local_cluster.kube() as kube:
            await kube.delete(object_path(ARGOPROJ_API, "Application", name, local_cluster.argocd_namespace))
        await local_cluster.delete_namespace(namespace)


async def test_a_start_that_fails_stops_everything_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A marker of this test's own, so the session's cluster (which may be running) is not counted.
    marker = uuid.uuid4().hex
    monkeypatch.setenv(SESSION_MARKER, marker)
    # No apiserver is ready within a second: the start fails while etcd, redis and the repo-server may be up.
    expected = r"(?s)did not start: .*kube-apiserver not ready at https://127\.0\.0\.1:\d+/readyz"
    with pytest.raises(ClusterStartError, match=expected):
        async with run_local_cluster(tmp_path, regions=("us-east-1",), timeout=1.0):
            pytest.fail("a cluster whose apiserver is not ready must not be handed out")
    assert (tmp_path / "logs" / "kube-apiserver.log").exists()
    assert processes_with_marker(marker) == []


async def test_a_region_that_cannot_name_a_node_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'EU West' is not a DNS label"):
        async with run_local_cluster(tmp_path, regions=("us-east-1", "EU West")):
            pytest.fail("an invalid region must be refused")
    assert not (tmp_path / "logs").exists()
