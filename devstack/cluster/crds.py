"""The Argo Rollouts and Argo CD CustomResourceDefinitions: each project's applied in one go, then waited on until
Established.

The apiserver accepts a CRD's names, then establishes it, one CRD at a time in the order they were created and
1-3 s each for schemas this large (the largest part of the start-up): so each controller waits only for its own.
Parsing them (a few MB of YAML) runs in a thread while the apiserver starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from devstack.cluster.kube import Json, KubeApi, condition_true, object_path, wait_until

CRD_API = "apiextensions.k8s.io/v1"


def load_crds(directory: Path) -> list[Json]:
    """Every CustomResourceDefinition in the YAML files of `directory` (kustomization files are skipped)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crds: list[Json] = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open() as stream:
            docs = list(yaml.load_all(stream, Loader=loader))
        crds.extend(doc for doc in docs if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition")
    if not crds:
        raise FileNotFoundError(f"no CustomResourceDefinition in {directory}")
    return crds


def crd_names(crds: Sequence[Json]) -> list[str]:
    return [crd["metadata"]["name"] for crd in crds]


async def apply_crds(kube: KubeApi, crds: Sequence[Json]) -> None:
    """Send them all at once."""
    await asyncio.gather(*(kube.apply(crd) for crd in crds))


async def wait_established(kube: KubeApi, names: Sequence[str], *, timeout: float, alive: Callable[[], None]) -> None:
    pending = set(names)

    async def established() -> bool:
        alive()
        for name in sorted(pending):
            if condition_true(await kube.get(object_path(CRD_API, "CustomResourceDefinition", name)), "Established"):
                pending.discard(name)
        return not pending

    await wait_until(
        established,
        timeout=timeout,
        what="CRDs Established",
        interval=0.1,
        last_seen=lambda: f"still waiting for {sorted(pending)}",
    )
