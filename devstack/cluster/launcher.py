"""Start the whole local cluster, in dependency order with everything independent in parallel, and stop it all on
exit (also when the body raises):

    stage 1  etcd, kube-apiserver, redis, argocd-repo-server   (the CRDs are parsed in a thread meanwhile)
    stage 2  kube-controller-manager, kube-scheduler, kwok and its fake nodes (until schedulable), Argo CD's
             namespace and settings, the CRDs (Argo CD's, then Rollouts'); as soon as Rollouts' are Established,
             rollouts-controller; as soon as Argo CD's are and its settings exist, argocd-application-controller
             and argocd-server, then the admin password and `default` project they generate
    stage 3  an API token for Rollwright's Argo CD account, checked by listing Applications

Each process's start and each bootstrap step goes on the cluster's timeline (LocalCluster.timings).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from devstack.cluster import argocd, control_plane
from devstack.cluster.crds import apply_crds, crd_names, load_crds, wait_established
from devstack.cluster.kube import Json, KubeApi
from devstack.cluster.pki import ClusterPki, ensure_pki
from devstack.cluster.processes import ClusterProcesses
from devstack.cluster.running import LocalCluster
from devstack.cluster.timeline import Timeline
from devstack.cluster.tools import ClusterTools, cluster_tools
from devstack.ports import free_port
from devstack.process import ProcessStartError, ReadinessProbe, http_probe, tcp_probe
from rollwright.observability.logging import get_logger

log = get_logger(__name__)
# A part whose health port was taken between free_port() and its bind is started again on a fresh one this often.
_PORT_ATTEMPTS = 3

DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
# Each wait's budget: 12-20 s is usual from cached binaries, but 2 contended cores have taken 37 s.
STEP_TIMEOUT = 120.0
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_LABEL = 63


class ClusterStartError(RuntimeError):
    """A part of the local cluster did not start; the message names each failure and where the logs are."""


async def _started() -> bool:
    return True


# kwok opens no port: that it works shows in the fake nodes turning Ready, which is waited on by itself.
NO_PORT = ReadinessProbe(check=_started, description="started")


def _check_regions(regions: Sequence[str]) -> None:
    """Each region names a node (`kwok-<region>`) and labels it, so it must be a DNS label."""
    if not regions:
        raise ValueError("the local cluster needs at least one region")
    for region in regions:
        if not DNS_LABEL.fullmatch(region) or len(control_plane.node_name(region)) > MAX_LABEL:
            raise ValueError(f"region {region!r} is not a DNS label (lower-case letters, digits, '-'; at most 58)")


def _scratch_dir(prefix: str) -> Path:
    """On tmpfs where there is one: every write of etcd's then costs a memory copy, not a disk write."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


class _Parts:
    """Starting each part; every method returns once that part answers its readiness check."""

    def __init__(
        self, tools: ClusterTools, pki: ClusterPki, workdir: Path, procs: ClusterProcesses, timeout: float
    ) -> None:
        self.tools, self.pki, self.procs, self.timeout = tools, pki, procs, timeout
        self.workdir = workdir
        self.cp = control_plane.ControlPlanePorts()
        self.cd = argocd.ArgoCDPorts()
        self.rollouts_metrics, self.rollouts_healthz = free_port(), free_port()
        self.kubeconfig = control_plane.write_kubeconfig(workdir / "kubeconfig", self.cp.apiserver_url, pki)

    def _http_ready(self, port: int) -> ReadinessProbe:
        return http_probe(f"http://{control_plane.LOOPBACK}:{port}/healthz", timeout=self.timeout)

    def _argocd_env(self, role: str) -> dict[str, str]:
        return argocd.argocd_env(role, self.kubeconfig, self.workdir / "argocd")

    async def etcd(self, data_dir: Path) -> None:
        argv = control_plane.etcd_argv(self.tools, data_dir, self.cp)
        await self.procs.start("etcd", argv, probe=control_plane.etcd_probe(self.cp, self.timeout))

    async def apiserver(self, kube: KubeApi) -> None:
        argv = control_plane.apiserver_argv(self.tools, self.pki, self.cp)
        await self.procs.start("kube-apiserver", argv, probe=control_plane.apiserver_probe(kube, self.timeout))

    async def controller_manager(self) -> None:
        await self._on_own_port(
            "kube-controller-manager",
            self.cp.controller_manager,
            lambda port: control_plane.controller_manager_argv(self.tools, self.pki, self.kubeconfig, port),
        )

    async def scheduler(self) -> None:
        await self._on_own_port(
            "kube-scheduler",
            self.cp.scheduler,
            lambda port: control_plane.scheduler_argv(self.tools, self.kubeconfig, port),
        )

    async def _on_own_port(self, name: str, port: int, argv_for: Callable[[int], list[str]]) -> None:
        """Start a part that serves only its own health port; when another process took that port between
        free_port() and the bind (two clusters starting at once), start it again on a fresh one. Nothing else
        connects to these ports, so moving them changes nothing for the rest of the cluster."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            try:
                await self.procs.start(name, argv_for(port), probe=control_plane.healthz_probe(port, self.timeout))
                return
            except ProcessStartError as exc:
                if "address already in use" not in str(exc) or attempt == _PORT_ATTEMPTS:
                    raise
                log.warning("port taken, starting again on another", part=name, port=port, attempt=attempt)
                port = free_port()

    async def kwok(self) -> None:
        stages = control_plane.write_kwok_stages(self.tools, self.workdir / "kwok-stages.yaml")
        await self.procs.start("kwok", control_plane.kwok_argv(self.tools, self.kubeconfig, stages), probe=NO_PORT)

    async def rollouts(self) -> None:
        # Its metrics and healthz listeners take no address flag: they bind every interface.
        argv = [str(self.tools.rollouts_controller), f"--kubeconfig={self.kubeconfig}", "--leader-elect=false",
                f"--metricsPort={self.rollouts_metrics}", f"--healthzPort={self.rollouts_healthz}",
                "--loglevel=warn"]  # fmt: skip
        await self.procs.start("rollouts-controller", argv, probe=self._http_ready(self.rollouts_healthz))

    async def redis(self) -> None:
        argv = argocd.redis_argv(self.tools, self.cd.redis, self.workdir)
        probe = tcp_probe(control_plane.LOOPBACK, self.cd.redis, timeout=self.timeout)
        await self.procs.start("redis", argv, probe=probe)

    async def repo_server(self) -> None:
        role = "argocd-repo-server"
        argv, probe = argocd.repo_server_argv(self.tools, self.cd), self._http_ready(self.cd.repo_server_metrics)
        await self.procs.start(role, argv, env=self._argocd_env(role), probe=probe)

    async def application_controller(self) -> None:
        role = "argocd-application-controller"
        argv = argocd.application_controller_argv(self.tools, self.cd)
        probe = self._http_ready(self.cd.controller_metrics)
        await self.procs.start(role, argv, env=self._argocd_env(role), probe=probe)

    async def server(self) -> None:
        role = argocd.SERVER_ROLE
        probe = http_probe(f"{self.cd.server_url}/healthz", timeout=self.timeout)
        await self.procs.start(role, argocd.server_argv(self.tools, self.cd), env=self._argocd_env(role), probe=probe)


async def _start(parts: _Parts, kube: KubeApi, regions: Sequence[str], etcd_data: Path) -> str:
    """Every part up and checked; returns Rollwright's Argo CD token."""
    alive, timeout, timeline = parts.procs.check_alive, parts.timeout, parts.procs.timeline
    async with asyncio.TaskGroup() as stage1:
        stage1.create_task(parts.etcd(etcd_data))
        stage1.create_task(parts.apiserver(kube))
        stage1.create_task(parts.redis())
        stage1.create_task(parts.repo_server())

        async def parse_crds(name: str, path: Path) -> list[Json]:
            with timeline.part(name):
                return await asyncio.to_thread(load_crds, path)

        argocd_parsing = stage1.create_task(parse_crds("argocd CRDs parsed", parts.tools.argocd_crds))
        rollouts_parsing = stage1.create_task(parse_crds("rollouts CRDs parsed", parts.tools.rollouts_crds))
    argocd_crds, rollouts_crds = argocd_parsing.result(), rollouts_parsing.result()

    async with asyncio.TaskGroup() as stage2:
        stage2.create_task(parts.controller_manager())
        stage2.create_task(parts.scheduler())

        async def argocd_settings() -> None:
            with timeline.part("argocd settings"):
                await argocd.bootstrap(kube)

        async def apply_argocd_crds() -> None:
            with timeline.part("argocd CRDs applied"):
                await apply_crds(kube, argocd_crds)

        settings = stage2.create_task(argocd_settings())
        # Argo CD's CRDs are created first, so the apiserver establishes them first: the chain after them (two
        # controllers, the admin secret, a token) is the longer one.
        argocd_applied = stage2.create_task(apply_argocd_crds())

        async def fake_nodes() -> None:
            with timeline.part("fake nodes schedulable"):
                await asyncio.gather(parts.kwok(), *(kube.apply(control_plane.fake_node(region)) for region in regions))
                await control_plane.wait_nodes_schedulable(kube, regions, timeout=timeout, alive=alive)

        async def rollouts() -> None:
            await argocd_applied
            with timeline.part("rollouts CRDs established"):
                await apply_crds(kube, rollouts_crds)
                await wait_established(kube, crd_names(rollouts_crds), timeout=timeout, alive=alive)
            await parts.rollouts()

        async def argo_cd() -> str:
            await argocd_applied
            await settings
            with timeline.part("argocd CRDs established"):
                await wait_established(kube, crd_names(argocd_crds), timeout=timeout, alive=alive)
            await asyncio.gather(parts.application_controller(), parts.server())
            with timeline.part("argocd initialized"):
                return await argocd.initialized(kube, timeout=timeout, alive=alive)

        stage2.create_task(fake_nodes())
        stage2.create_task(rollouts())
        password = stage2.create_task(argo_cd())
    with timeline.part("argocd token"):
        return await argocd.account_token(parts.cd.server_url, password.result())


@contextlib.asynccontextmanager
async def run_local_cluster(
    workdir: Path, *, regions: Sequence[str] = DEFAULT_REGIONS, timeout: float = STEP_TIMEOUT
) -> AsyncIterator[LocalCluster]:
    """The local cluster with one fake node per region; its logs go to `workdir/logs`."""
    timeline = Timeline()
    _check_regions(regions)
    with timeline.part("tools and certificates"):
        tools = cluster_tools()
        pki = await asyncio.to_thread(ensure_pki)
    workdir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        etcd_data = _scratch_dir("rollwright-etcd-")
        # Registered first, so it runs last: after etcd has stopped.
        stack.callback(shutil.rmtree, etcd_data, ignore_errors=True)
        procs = ClusterProcesses(stack, workdir / "logs", timeline)
        parts = _Parts(tools, pki, workdir, procs, timeout)
        kube = await stack.enter_async_context(KubeApi(parts.cp.apiserver_url, pki.admin_token, pki.ca_cert))
        try:
            token = await _start(parts, kube, regions, etcd_data)
        except ExceptionGroup as failures:
            reasons = "; ".join(str(error) for error in failures.exceptions)
            message = f"the local cluster did not start: {reasons} (logs in {procs.log_dir})"
            raise ClusterStartError(message) from failures
        cluster = LocalCluster(
            kube_url=parts.cp.apiserver_url,
            kube_token=pki.admin_token,
            ca_file=pki.ca_cert,
            kubeconfig=parts.kubeconfig,
            argocd_url=parts.cd.server_url,
            argocd_token=token,
            regions=tuple(regions),
            log_dir=procs.log_dir,
            startup_seconds=timeline.now(),
            timings=dict(timeline.parts),
            processes=procs,
        )
        log.info("local cluster ready", seconds=round(cluster.startup_seconds, 1), kube=cluster.kube_url,
                 argocd=cluster.argocd_url)  # fmt: skip
        yield cluster
