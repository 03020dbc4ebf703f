"""What a started local cluster hands to its user: where its APIs are, the tokens for them, and namespaces per
region (each labelled with its region, ready for pods at once).

    async with run_local_cluster(tmp) as cluster, cluster.argocd() as argo:
        namespaces = await cluster.namespaces_per_region("checkout")  # {"us-east-1": "checkout-us-east-1", ...}
        apps = (await argo.get("/api/v1/applications")).json()
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.cluster.argocd import IN_CLUSTER_SERVER, SERVER_ROLE
from devstack.cluster.argocd import NAMESPACE as ARGOCD_NAMESPACE
from devstack.cluster.control_plane import REGION_LABEL
from devstack.cluster.kube import KubeApi, object_path, wait_until
from devstack.cluster.processes import ClusterProcesses
from devstack.cluster.timeline import PartTiming

NAMESPACE_TIMEOUT = 30.0


@dataclass(frozen=True)
class LocalCluster:
    kube_url: str
    kube_token: str  # admin (system:masters)
    ca_file: Path  # verifies the apiserver's certificate
    kubeconfig: Path
    argocd_url: str
    argocd_token: str  # the `rollwright` local account's API token
    regions: tuple[str, ...]  # one fake node each, labelled REGION_LABEL=<region>
    log_dir: Path
    startup_seconds: float
    # Each process and bootstrap step, in seconds since the launch began (see devstack.cluster.timeline).
    timings: Mapping[str, PartTiming]
    processes: ClusterProcesses = field(repr=False, compare=False)
    argocd_namespace: str = ARGOCD_NAMESPACE
    # What an Application's destination.server names this cluster by.
    argocd_destination: str = IN_CLUSTER_SERVER
    region_label: str = REGION_LABEL

    @property
    def pids(self) -> dict[str, int]:
        """By component name: etcd, kube-apiserver, ..., argocd-server (the live one, after a restart)."""
        return self.processes.pids

    async def restart_argocd_server(self, *, down: float = 0.0) -> float:
        """Kill argocd-server (SIGKILL, as a crash or an evicted pod would end it), leave it down `down` seconds (a pod
        being rescheduled), and start it again on the same port with the same settings; returns once it is ready,
        with the seconds it was gone. Its state lives in the cluster (argocd-secret's signing key, the account's
        token ids) and in redis, so tokens stay valid."""
        return await self.processes.restart(SERVER_ROLE, down=down)

    def kube(self) -> KubeApi:
        """A client of the kube API as admin; use it as `async with`."""
        return KubeApi(self.kube_url, self.kube_token, self.ca_file)

    def argocd(self, token: str | None = None) -> httpx.AsyncClient:
        """A client of Argo CD's REST API, authorised as the `rollwright` account unless `token` is given."""
        return httpx.AsyncClient(
            base_url=self.argocd_url,
            headers={"Authorization": f"Bearer {token or self.argocd_token}"},
            timeout=30.0,
        )

    async def create_namespace(self, name: str, *, region: str | None = None) -> str:
        """A namespace (labelled by region, if given) that pods can be created in at once: its default
        ServiceAccount exists."""
        labels = {self.region_label: region} if region else {}
        async with self.kube() as kube:
            await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
            account = object_path("v1", "ServiceAccount", "default", name)

            async def account_exists() -> bool:
                return await kube.get_or_none(account) is not None

            await wait_until(account_exists, timeout=NAMESPACE_TIMEOUT, what=f"ServiceAccount {name}/default")
        return name

    async def namespaces_per_region(self, prefix: str) -> dict[str, str]:
        """`<prefix>-<region>` for every region of the cluster, by region."""
        names = await asyncio.gather(
            *(self.create_namespace(f"{prefix}-{region}", region=region) for region in self.regions)
        )
        return dict(zip(self.regions, names, strict=True))

    async def delete_namespace(self, name: str) -> None:
        async with self.kube() as kube:
            await kube.delete(object_path("v1", "Namespace", name))

    async def delete_applications(self, names: list[str]) -> None:
        """Argo CD Applications a test made, so the shared Argo CD stops refreshing them from a repository that is
        gone. Through the kube API as admin: Rollwright's Argo CD account may not delete Applications, and need not."""
        async with self.kube() as kube:
            for name in names:
                await kube.delete(object_path("argoproj.io/v1alpha1", "Application", name, self.argocd_namespace))
