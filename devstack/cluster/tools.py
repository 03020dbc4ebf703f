"""Where tools/ensure-cluster-tools.sh left the local cluster's binaries and manifests: one directory per component
and pinned version (tools/cluster-pins.env) under the cache root, and redis from Debian."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rollwright.provisioning.cli_binary import cache_root

PINS_FILE = Path(__file__).resolve().parents[2] / "tools" / "cluster-pins.env"
REDIS_SERVER = "redis-server"
ENSURE_HINT = "run tools/ensure-cluster-tools.sh to build and cache it"


class ClusterToolsMissingError(RuntimeError):
    """A binary or manifest of the local cluster is not in the cache (or redis-server is not installed)."""


def read_pins(path: Path = PINS_FILE) -> dict[str, str]:
    """The KEY=VALUE lines of the pins file; comments and blank lines skipped."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: expected KEY=VALUE, got {line!r}")
        pins[key.strip()] = value.strip()
    return pins


@dataclass(frozen=True)
class ClusterTools:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kwok_stages: Path
    rollouts_controller: Path
    rollouts_crds: Path
    argocd: Path
    argocd_crds: Path
    redis_server: Path


def _component_dir(name: str, version: str) -> Path:
    return cache_root() / "cluster" / name / f"v{version}"


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ClusterToolsMissingError(f"{what} not found at {path}: {ENSURE_HINT}")
    return path


def cluster_tools() -> ClusterTools:
    """Every cached part, checked to exist, so a missing build fails before any process starts."""
    pins = read_pins()
    kubernetes = pins["KUBERNETES_VERSION"]

    def binary(component: str, version: str, name: str | None = None) -> Path:
        return _existing(_component_dir(component, version) / "bin" / (name or component), f"{component} v{version}")

    def beside(component: str, version: str, sub: str) -> Path:
        return _existing(_component_dir(component, version) / sub, f"{component} v{version} {sub}")

    redis = shutil.which(REDIS_SERVER) or "/usr/bin/redis-server"
    return ClusterTools(
        etcd=binary("etcd", pins["ETCD_VERSION"]),
        kube_apiserver=binary("kube-apiserver", kubernetes),
        kube_controller_manager=binary("kube-controller-manager", kubernetes),
        kube_scheduler=binary("kube-scheduler", kubernetes),
        kwok=binary("kwok", pins["KWOK_VERSION"]),
        kwok_stages=beside("kwok", pins["KWOK_VERSION"], "stage"),
        rollouts_controller=binary("rollouts-controller", pins["ARGO_ROLLOUTS_VERSION"]),
        rollouts_crds=beside("rollouts-controller", pins["ARGO_ROLLOUTS_VERSION"], "crds"),
        argocd=binary("argocd", pins["ARGO_CD_VERSION"]),
        argocd_crds=beside("argocd", pins["ARGO_CD_VERSION"], "crds"),
        redis_server=_existing(Path(redis), f"{REDIS_SERVER} (Debian package {pins['REDIS_DEBIAN_PACKAGE']})"),
    )
