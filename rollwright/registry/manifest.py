"""Manifest media types and the few manifest fields Rollwright reads (descriptors of children, config, layers)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rollwright.registry.errors import RegistryProtocolError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# Without these, registries fall back to converting to schema 1, which changes the digest.
ACCEPT_MANIFESTS = ", ".join([OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST])


class Platform(BaseModel):
    model_config = ConfigDict(extra="allow")
    architecture: str = ""
    os: str = ""


class Descriptor(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    media_type: str = Field(default="", alias="mediaType")
    digest: str
    size: int = Field(ge=0)
    platform: Platform | None = None


class ManifestDocument(BaseModel):
    """An image manifest or an index; only the fields needed to walk an image's graph."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    media_type: str | None = Field(default=None, alias="mediaType")
    config: Descriptor | None = None
    layers: list[Descriptor] = Field(default_factory=list)
    manifests: list[Descriptor] = Field(default_factory=list)

    def blobs(self) -> list[Descriptor]:
        return ([self.config] if self.config is not None else []) + self.layers


def compute_digest(algorithm: str, body: bytes) -> str:
    """`algo:hex` of body; only sha256 and sha512 are in use by registries."""
    if algorithm not in ("sha256", "sha512"):
        raise RegistryProtocolError(f"unsupported digest algorithm {algorithm!r}")
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def digest_algorithm(digest: str) -> str:
    return digest.split(":", 1)[0]


def parse_manifest(body: bytes, content_type: str | None) -> tuple[str, ManifestDocument]:
    """Return the effective media type (header, else the body's mediaType) and the parsed document."""
    try:
        raw: Any = json.loads(body)
        document = ManifestDocument.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        raise RegistryProtocolError(f"manifest is not valid JSON of a known shape: {exc}") from exc
    header_type = (content_type or "").split(";", 1)[0].strip()
    media_type = document.media_type or header_type
    if media_type not in INDEX_TYPES | MANIFEST_TYPES:
        media_type = header_type or media_type
    if media_type not in INDEX_TYPES | MANIFEST_TYPES:
        raise RegistryProtocolError(f"unsupported manifest media type {media_type!r}")
    return media_type, document
