"""Build and push small, deterministic OCI images: for tests and the demo, not for production builds.

Each image is a config blob, one gzipped tar layer holding a file derived from `seed`, and an OCI
manifest; an index groups one such image per platform. The same seed always gives the same digest.

    digest = await push_image("http://127.0.0.1:5000", "shop/api", "v1.0.0", seed="v1")
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from rollwright.registry.manifest import OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST

DEFAULT_CREATED = datetime(2025, 1, 1, tzinfo=UTC)
DEFAULT_PLATFORMS: tuple[tuple[str, str], ...] = (("linux", "amd64"), ("linux", "arm64"))


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _canonical(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BuiltManifest:
    """A manifest's exact bytes, plus every blob and child manifest it needs pushed first."""

    body: bytes
    media_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)
    children: tuple[BuiltManifest, ...] = ()

    @property
    def digest(self) -> str:
        return _digest(self.body)


def _filler(seed: str, size: int) -> bytes:
    """Incompressible, seed-determined bytes: lets tests make a layer large enough to need chunked uploads."""
    blocks = (hashlib.sha256(f"{seed}/{n}".encode()).digest() for n in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def _layer(seed: str, os_name: str, architecture: str, extra_bytes: int) -> bytes:
    content = f"rollwright test image {seed} {os_name}/{architecture}\n".encode() + _filler(seed, extra_bytes)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc/rollwright-seed")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def build_image(
    seed: str,
    *,
    created: datetime = DEFAULT_CREATED,
    os_name: str = "linux",
    architecture: str = "amd64",
    extra_bytes: int = 0,
) -> BuiltManifest:
    tar = _layer(seed, os_name, architecture, extra_bytes)
    layer = gzip.compress(tar, mtime=0)
    config = _canonical(
        {
            "architecture": architecture,
            "os": os_name,
            "created": created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "config": {"Labels": {"org.rollwright.seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar)]},
        }
    )
    manifest = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": _digest(layer), "size": len(layer)}],
        }
    )
    return BuiltManifest(manifest, OCI_MANIFEST, {_digest(config): config, _digest(layer): layer})


def build_index(
    seed: str, *, platforms: tuple[tuple[str, str], ...] = DEFAULT_PLATFORMS, created: datetime = DEFAULT_CREATED
) -> BuiltManifest:
    children = tuple(build_image(seed, created=created, os_name=o, architecture=a) for o, a in platforms)
    index = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": child.media_type,
                    "digest": child.digest,
                    "size": len(child.body),
                    "platform": {"os": o, "architecture": a},
                }
                for child, (o, a) in zip(children, platforms, strict=True)
            ],
        }
    )
    return BuiltManifest(index, OCI_INDEX, children=children)


async def _push_blob(http: httpx.AsyncClient, repository: str, digest: str, body: bytes) -> None:
    if (await http.head(f"/v2/{repository}/blobs/{digest}")).status_code == 200:
        return
    start = await http.post(f"/v2/{repository}/blobs/uploads/")
    start.raise_for_status()
    # The Location's query is the registry's upload state: add the digest to it rather than replace it.
    location = httpx.URL(start.headers["location"]).copy_merge_params({"digest": digest})
    done = await http.put(location, content=body)
    done.raise_for_status()


async def _push_manifest(http: httpx.AsyncClient, repository: str, reference: str, built: BuiltManifest) -> str:
    for child in built.children:
        await _push_manifest(http, repository, child.digest, child)
    for digest, body in built.blobs.items():
        await _push_blob(http, repository, digest, body)
    response = await http.put(
        f"/v2/{repository}/manifests/{reference}", content=built.body, headers={"Content-Type": built.media_type}
    )
    response.raise_for_status()
    # The digest the registry itself reports is the ground truth tests compare against.
    return str(response.headers["docker-content-digest"])


async def push_manifest(
    registry_url: str, repository: str, tag: str, built: BuiltManifest, *, auth: tuple[str, str] | None = None
) -> str:
    """Push a built image or index under `tag` (basic auth if given); return the registry's digest for it."""
    async with httpx.AsyncClient(base_url=registry_url, auth=auth, timeout=30.0) as http:
        return await _push_manifest(http, repository, tag, built)


async def push_image(
    registry_url: str,
    repository: str,
    tag: str,
    *,
    seed: str,
    created: datetime = DEFAULT_CREATED,
    auth: tuple[str, str] | None = None,
) -> str:
    return await push_manifest(registry_url, repository, tag, build_image(seed, created=created), auth=auth)


async def push_index(
    registry_url: str,
    repository: str,
    tag: str,
    *,
    seed: str,
    platforms: tuple[tuple[str, str], ...] = DEFAULT_PLATFORMS,
    auth: tuple[str, str] | None = None,
) -> str:
    return await push_manifest(registry_url, repository, tag, build_index(seed, platforms=platforms), auth=auth)
