"""The real Argo CD out of a cluster: redis, argocd-repo-server, argocd-application-controller and argocd-server
(one multicall binary, its role chosen by ARGOCD_BINARY_NAME), bootstrapped the way its manifests would be, and an
API token for Rollwright's own local account.

ARGOCD_FAKE_IN_CLUSTER makes `https://kubernetes.default.svc` (the in-cluster destination) mean KUBECONFIG's cluster.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.cluster.control_plane import LOOPBACK
from devstack.cluster.kube import Json, KubeApi, object_path, wait_until
from devstack.cluster.tools import ClusterTools
from devstack.ports import free_port

NAMESPACE = "argocd"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
ACCOUNT = "rollwright"
ADMIN = "admin"
ADMIN_SECRET = "argocd-initial-admin-secret"
SERVER_ROLE = "argocd-server"
# Argo CD watches its settings ConfigMaps by this label (unlabelled, argocd-cm is never read); its own manifests
# put it on argocd-secret too.
PART_OF = {"app.kubernetes.io/part-of": "argocd"}
# Short, so a test sees a change in git without asking for a refresh; syncs refresh anyway.
RECONCILIATION = "10s"
# What Rollwright does through the API: read, create and update Applications, sync them, run Rollout actions.
RBAC_POLICY = "\n".join(
    [
        *(f"p, role:{ACCOUNT}, applications, {verb}, */*, allow" for verb in ("get", "create", "update", "sync")),
        f"p, role:{ACCOUNT}, applications, action/*, */*, allow",
        f"p, role:{ACCOUNT}, projects, get, *, allow",
        f"p, role:{ACCOUNT}, clusters, get, *, allow",
        f"g, {ACCOUNT}, role:{ACCOUNT}",
    ]
)


class ArgoCDBootstrapError(RuntimeError):
    """Argo CD came up but would not hand out a session or an API token."""


@dataclass(frozen=True)
class ArgoCDPorts:
    redis: int = field(default_factory=free_port)
    repo_server: int = field(default_factory=free_port)
    repo_server_metrics: int = field(default_factory=free_port)
    controller_metrics: int = field(default_factory=free_port)
    server: int = field(default_factory=free_port)
    server_metrics: int = field(default_factory=free_port)

    @property
    def server_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server}"

    @property
    def redis_address(self) -> str:
        return f"{LOOPBACK}:{self.redis}"

    @property
    def repo_server_address(self) -> str:
        return f"{LOOPBACK}:{self.repo_server}"


def redis_argv(tools: ClusterTools, port: int, directory: Path) -> list[str]:
    # A cache only: no snapshots, no append-only file. Its process title would overwrite the environment that
    # carries the session marker, hiding a redis left running from the leftover check.
    return [str(tools.redis_server), "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", str(directory), "--set-proc-title", "no"]  # fmt: skip


def argocd_env(role: str, kubeconfig: Path, data_dir: Path) -> dict[str, str]:
    """What every role needs out of a cluster; the data paths (TLS, SSH, GPG, plugins, clones) stay in `data_dir`."""
    paths = {name: data_dir / name for name in ("tls", "ssh", "gnupg", "gpg", "plugins", "tmp")}
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "ARGOCD_BINARY_NAME": role,
        "KUBECONFIG": str(kubeconfig),
        "ARGOCD_FAKE_IN_CLUSTER": "true",
        "ARGOCD_TLS_DATA_PATH": str(paths["tls"]),
        "ARGOCD_SSH_DATA_PATH": str(paths["ssh"]),
        "GNUPGHOME": str(paths["gnupg"]),
        "ARGOCD_GPG_DATA_PATH": str(paths["gpg"]),
        "ARGOCD_GPG_ENABLED": "false",
        "ARGOCD_PLUGINSOCKFILEPATH": str(paths["plugins"]),
        "TMPDIR": str(paths["tmp"]),
    }


# Everything talks over loopback, so the repo-server's gRPC goes without TLS.
def repo_server_argv(tools: ClusterTools, ports: ArgoCDPorts) -> list[str]:
    return [str(tools.argocd), "--address", LOOPBACK, "--port", str(ports.repo_server),
            "--metrics-address", LOOPBACK, "--metrics-port", str(ports.repo_server_metrics),
            "--redis", ports.redis_address, "--disable-tls", "--loglevel", "warn"]  # fmt: skip


def application_controller_argv(tools: ClusterTools, ports: ArgoCDPorts) -> list[str]:
    # Its metrics listener takes no address flag: it binds every interface.
    return [str(tools.argocd), "--namespace", NAMESPACE, "--metrics-port", str(ports.controller_metrics),
            "--redis", ports.redis_address, "--repo-server", ports.repo_server_address, "--repo-server-plaintext",
            "--loglevel", "warn"]  # fmt: skip


def server_argv(tools: ClusterTools, ports: ArgoCDPorts) -> list[str]:
    return [str(tools.argocd), "--namespace", NAMESPACE, "--insecure", "--address", LOOPBACK,
            "--port", str(ports.server), "--metrics-address", LOOPBACK, "--metrics-port", str(ports.server_metrics),
            "--redis", ports.redis_address, "--repo-server", ports.repo_server_address, "--repo-server-plaintext",
            "--loglevel", "warn"]  # fmt: skip


def bootstrap_manifests() -> list[Json]:
    """What Argo CD's install manifests would have created before its pods start."""

    def meta(name: str) -> Json:
        return {"name": name, "namespace": NAMESPACE, "labels": PART_OF}

    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("argocd-cm"),
            "data": {
                "timeout.reconciliation": RECONCILIATION,
                "timeout.reconciliation.jitter": "0s",
                f"accounts.{ACCOUNT}": "apiKey",
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("argocd-rbac-cm"),
            "data": {"policy.csv": RBAC_POLICY, "policy.default": ""},
        },
        # Empty: argocd-server generates its signing key into it, and the admin password into ADMIN_SECRET.
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("argocd-secret"), "type": "Opaque"},
    ]


async def bootstrap(kube: KubeApi) -> None:
    for manifest in bootstrap_manifests():
        await kube.apply(manifest)


async def initialized(kube: KubeApi, *, timeout: float, alive: Callable[[], None]) -> str:
    """What argocd-server creates when it first starts: the `default` AppProject and the admin password (returned)."""
    secret_path = object_path("v1", "Secret", ADMIN_SECRET, NAMESPACE)
    project_path = object_path("argoproj.io/v1alpha1", "AppProject", "default", NAMESPACE)

    async def password() -> str | None:
        alive()
        secret = await kube.get_or_none(secret_path)
        encoded = ((secret or {}).get("data") or {}).get("password")
        if not encoded or await kube.get_or_none(project_path) is None:
            return None
        return base64.b64decode(encoded).decode()

    return await wait_until(
        password, timeout=timeout, what=f"Secret {NAMESPACE}/{ADMIN_SECRET} and AppProject {NAMESPACE}/default"
    )


def _answer(response: httpx.Response, what: str) -> Json:
    if response.is_error:
        raise ArgoCDBootstrapError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    body: Json = response.json()
    return body


async def account_token(server_url: str, password: str) -> str:
    """A non-expiring API token of the `rollwright` account, issued with an admin session."""
    async with httpx.AsyncClient(base_url=server_url, timeout=15.0) as http:
        session = _answer(
            await http.post("/api/v1/session", json={"username": ADMIN, "password": password}),
            "admin session (POST /api/v1/session)",
        )
        issued = _answer(
            await http.post(
                f"/api/v1/account/{ACCOUNT}/token",
                json={"name": ACCOUNT, "id": "devstack"},
                headers={"Authorization": f"Bearer {session['token']}"},
            ),
            f"token for account {ACCOUNT} (POST /api/v1/account/{ACCOUNT}/token)",
        )
        token = str(issued["token"])
        # The proof the token works: a fresh Argo CD lists no Applications to it.
        listed = _answer(
            await http.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"}),
            f"listing Applications as {ACCOUNT}",
        )
    if listed.get("items"):
        names = [item["metadata"]["name"] for item in listed["items"]]
        raise ArgoCDBootstrapError(f"a fresh Argo CD already lists Applications: {names}")
    return token
