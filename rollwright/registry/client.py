"""Reading from an OCI registry: resolve a tag to its digest, fetch verified manifests and blobs.

async with RegistryClient(RegistryClientConfig()) as registry:
    resolved = await registry.resolve(parse_reference("127.0.0.1:5000/shop/api:v1.2.3"))
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from types import TracebackType

import httpx
from pydantic import BaseModel

from rollwright.observability.logging import get_logger
from rollwright.registry.config import RegistryClientConfig
from rollwright.registry.errors import DigestMismatchError, NotFoundError, RegistryProtocolError
from rollwright.registry.manifest import (
    ACCEPT_MANIFESTS,
    INDEX_TYPES,
    ManifestDocument,
    compute_digest,
    digest_algorithm,
    parse_manifest,
)
from rollwright.registry.reference import ImageReference
from rollwright.registry.transport import DIGEST_HEADER, RegistryTransport, pull_scope

log = get_logger(__name__)

_CREATED_RE = re.compile(
    r"^(?P<base>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<zone>[Zz]|[+-]\d\d:\d\d)$"
)


class ResolvedManifest(BaseModel):
    digest: str
    media_type: str
    size: int | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


class Manifest(BaseModel):
    """A manifest's exact bytes (the digest is of these bytes) with its parsed form."""

    digest: str
    media_type: str
    body: bytes
    document: ManifestDocument

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _verify(body: bytes, expected: str, what: str) -> None:
    actual = compute_digest(digest_algorithm(expected), body)
    if actual != expected:
        raise DigestMismatchError(
            f"{what}: content hashes to {actual}, expected {expected}", expected=expected, actual=actual
        )


def parse_created(text: str) -> datetime:
    """RFC 3339 as image configs write it (nanoseconds, `Z`) into an aware datetime."""
    match = _CREATED_RE.match(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    fraction = (match.group("fraction") or "")[:6]
    zone = match.group("zone").replace("Z", "+00:00").replace("z", "+00:00")
    return datetime.fromisoformat(f"{match.group('base')}{'.' + fraction if fraction else ''}{zone}")


def _raise_for_status(response: httpx.Response, what: str) -> None:
    if response.status_code == 404:
        raise NotFoundError(f"{what} not found (HTTP 404)")
    if not 200 <= response.status_code < 300:
        raise RegistryProtocolError(f"{what}: unexpected HTTP {response.status_code}")


class RegistryClient:
    def __init__(
        self, config: RegistryClientConfig | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.config = config or RegistryClientConfig()
        self._http = httpx.AsyncClient(
            timeout=self.config.timeouts.for_httpx(),
            follow_redirects=True,
            transport=transport or self.config.connect_retries.transport(),
        )
        self.transport = RegistryTransport(self.config, self._http)

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def resolve(self, ref: ImageReference) -> ResolvedManifest:
        """The digest `ref` points at now: HEAD when the registry names it, else GET and hash the body."""
        response = await self.transport.request(
            "HEAD",
            ref,
            f"manifests/{ref.reference}",
            scope=pull_scope(ref.repository),
            headers={"Accept": ACCEPT_MANIFESTS},
        )
        if response.status_code == 404:
            raise NotFoundError(f"manifest {ref} not found (HTTP 404)")
        header_digest = response.headers.get(DIGEST_HEADER)
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if response.status_code == 200 and header_digest and media_type:
            if ref.digest is not None and header_digest != ref.digest:
                raise DigestMismatchError(
                    f"manifest {ref}: registry names {header_digest}", expected=ref.digest, actual=header_digest
                )
            size = response.headers.get("content-length")
            return ResolvedManifest(digest=header_digest, media_type=media_type, size=int(size) if size else None)
        manifest = await self.get_manifest(ref)
        return ResolvedManifest(digest=manifest.digest, media_type=manifest.media_type, size=len(manifest.body))

    async def get_manifest(self, ref: ImageReference) -> Manifest:
        """GET the manifest and check its bytes against the digest asked for and the one the registry names."""
        response = await self.transport.request(
            "GET",
            ref,
            f"manifests/{ref.reference}",
            scope=pull_scope(ref.repository),
            headers={"Accept": ACCEPT_MANIFESTS},
        )
        _raise_for_status(response, f"manifest {ref}")
        body = response.content
        header_digest = response.headers.get(DIGEST_HEADER)
        expected = ref.digest or header_digest
        if expected is not None:
            _verify(body, expected, f"manifest {ref}")
        if ref.digest is not None and header_digest is not None and header_digest != ref.digest:
            raise DigestMismatchError(
                f"manifest {ref}: registry names {header_digest}", expected=ref.digest, actual=header_digest
            )
        digest = expected or compute_digest("sha256", body)
        media_type, document = parse_manifest(body, response.headers.get("content-type"))
        return Manifest(digest=digest, media_type=media_type, body=body, document=document)

    async def blob_exists(self, ref: ImageReference, digest: str) -> bool:
        response = await self.transport.request("HEAD", ref, f"blobs/{digest}", scope=pull_scope(ref.repository))
        if response.status_code == 404:
            return False
        _raise_for_status(response, f"blob {digest} in {ref.name}")
        return True

    async def get_blob(self, ref: ImageReference, digest: str) -> bytes:
        """A whole blob in memory, verified; for small blobs (configs). Copies stream instead."""
        response = await self.transport.request("GET", ref, f"blobs/{digest}", scope=pull_scope(ref.repository))
        _raise_for_status(response, f"blob {digest} in {ref.name}")
        _verify(response.content, digest, f"blob {digest} in {ref.name}")
        return response.content

    async def pushed_at(self, ref: ImageReference) -> datetime | None:
        """The image config's `created` time: when the image was built, the nearest cheap stand-in for a push time.

        An index has no config; its first runnable platform's is used. None when the image states no time.
        """
        try:
            manifest = await self.get_manifest(ref)
            if manifest.is_index:
                children = [d for d in manifest.document.manifests if d.platform is None or d.platform.os != "unknown"]
                if not children:
                    return None
                manifest = await self.get_manifest(ref.with_digest(children[0].digest))
            if manifest.document.config is None:
                return None
            config = json.loads(await self.get_blob(ref, manifest.document.config.digest))
            created = config.get("created") if isinstance(config, dict) else None
            return parse_created(created) if isinstance(created, str) else None
        except (NotFoundError, RegistryProtocolError, DigestMismatchError, ValueError) as exc:
            log.info("pushed_at_unavailable", image=str(ref), problem=str(exc))
            return None
