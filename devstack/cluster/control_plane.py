"""The Kubernetes half of the local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kwok
faking one node per region (no kubelet, no containers: kwok moves pods to Running and Ready by its stages)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack.cluster.kube import Json, KubeApi, condition_true, wait_until
from devstack.cluster.pki import ClusterPki
from devstack.cluster.tools import ClusterTools
from devstack.ports import free_port
from devstack.process import ReadinessProbe

LOOPBACK = "127.0.0.1"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
FAKE_NODE_IP = "10.0.0.10"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
REGION_LABEL = "topology.kubernetes.io/region"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Lease renewals (every quarter of this) keep a fake node Ready; its status is rewritten only every 10-20 minutes.
NODE_LEASE_SECONDS = 40
# What kwokctl runs by default: nodes become Ready at once and stay so by their lease; pods go Ready at once.
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)


@dataclass(frozen=True)
class ControlPlanePorts:
    etcd_client: int = field(default_factory=free_port)
    etcd_peer: int = field(default_factory=free_port)
    apiserver: int = field(default_factory=free_port)
    controller_manager: int = field(default_factory=free_port)
    scheduler: int = field(default_factory=free_port)

    @property
    def apiserver_url(self) -> str:
        return f"https://{LOOPBACK}:{self.apiserver}"


def etcd_argv(tools: ClusterTools, data_dir: Path, ports: ControlPlanePorts) -> list[str]:
    client, peer = f"http://{LOOPBACK}:{ports.etcd_client}", f"http://{LOOPBACK}:{ports.etcd_peer}"
    return [
        str(tools.etcd),
        "--name=local",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=local={peer}",
        "--listen-metrics-urls=",
        # A throwaway cluster: losing the last writes on a crash costs nothing, fsync costs every write.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def etcd_probe(ports: ControlPlanePorts, timeout: float) -> ReadinessProbe:
    url = f"http://{LOOPBACK}:{ports.etcd_client}/health"

    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0) as http:
                return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return ReadinessProbe(check=check, timeout=timeout, description=f"healthy at {url}")


def apiserver_argv(tools: ClusterTools, pki: ClusterPki, ports: ControlPlanePorts) -> list[str]:
    return [
        str(tools.kube_apiserver),
        f"--etcd-servers=http://{LOOPBACK}:{ports.etcd_client}",
        f"--bind-address={LOOPBACK}",
        f"--advertise-address={LOOPBACK}",
        f"--secure-port={ports.apiserver}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--token-auth-file={pki.token_file}",
        "--authorization-mode=RBAC",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.service_account_pub}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # Endpoints may not hold a loopback address, so the `kubernetes` Service gets none.
        "--endpoint-reconciler-type=none",
        "--enable-priority-and-fairness=false",
        "--profiling=false",
    ]


def apiserver_probe(kube: KubeApi, timeout: float) -> ReadinessProbe:
    return ReadinessProbe(check=kube.healthy, timeout=timeout, description=f"ready at {kube.url}/readyz")


def controller_manager_argv(tools: ClusterTools, pki: ClusterPki, kubeconfig: Path, port: int) -> list[str]:
    return [
        str(tools.kube_controller_manager),
        f"--kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--service-account-private-key-file={pki.service_account_key}",
        f"--root-ca-file={pki.ca_cert}",
        "--use-service-account-credentials=false",
        "--leader-elect=false",
    ]


def scheduler_argv(tools: ClusterTools, kubeconfig: Path, port: int) -> list[str]:
    return [
        str(tools.kube_scheduler),
        f"--kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        "--leader-elect=false",
    ]


def healthz_probe(port: int, timeout: float) -> ReadinessProbe:
    """The /healthz of a component serving its own throwaway self-signed certificate."""
    url = f"https://{LOOPBACK}:{port}/healthz"

    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0, verify=False) as http:
                return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return ReadinessProbe(check=check, timeout=timeout, description=f"healthy at {url}")


def write_kwok_stages(tools: ClusterTools, path: Path) -> Path:
    """The stages kwok runs by, from the module's own files: the kwok binary has none built in."""
    path.write_text("\n---\n".join((tools.kwok_stages / stage).read_text().strip() for stage in KWOK_STAGES) + "\n")
    return path


def kwok_argv(tools: ClusterTools, kubeconfig: Path, stages: Path) -> list[str]:
    # No --server-address: kwok then opens no port at all.
    return [
        str(tools.kwok),
        f"--kubeconfig={kubeconfig}",
        f"--config={stages}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
        f"--cidr={POD_CIDR}",
        f"--node-ip={FAKE_NODE_IP}",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
    ]


def write_kubeconfig(path: Path, url: str, pki: ClusterPki, namespace: str = "default") -> Path:
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": url, "certificate-authority": str(pki.ca_cert)}}],
        "users": [{"name": "admin", "user": {"token": pki.admin_token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin", "namespace": namespace}}],
        "current-context": "local",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def node_name(region: str) -> str:
    return f"kwok-{region}"


def fake_node(region: str) -> Json:
    name = node_name(region)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake"},
            "labels": {
                REGION_LABEL: region,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
    }


def node_schedulable(node: Json | None) -> bool:
    """Ready, and rid of the not-ready taints a new node starts with (until then nothing is scheduled on it)."""
    taints = ((node or {}).get("spec") or {}).get("taints") or []
    return condition_true(node, "Ready") and not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in taints)


async def wait_nodes_schedulable(
    kube: KubeApi, regions: Sequence[str], *, timeout: float, alive: Callable[[], None]
) -> None:
    """Every region's node Ready and untainted; `alive` raises if a process the wait depends on has died."""
    pending = {node_name(region) for region in regions}

    async def all_schedulable() -> bool:
        alive()
        nodes = await kube.get("/api/v1/nodes")
        pending.difference_update(n["metadata"]["name"] for n in nodes["items"] if node_schedulable(n))
        return not pending

    await wait_until(
        all_schedulable,
        timeout=timeout,
        what="fake nodes Ready and untainted",
        last_seen=lambda: f"still waiting for {sorted(pending)}",
    )
