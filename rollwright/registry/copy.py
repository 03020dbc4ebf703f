"""Promotion: copy an image, byte for byte, from the registry it was pushed to into a central one.

Manifests are copied as exact bytes (so the digest is preserved), children before parents (a registry
refuses an index whose children it lacks), blobs before the manifests that reference them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel

from rollwright.observability.logging import get_logger
from rollwright.registry.client import RegistryClient
from rollwright.registry.errors import NotFoundError, RegistryProtocolError
from rollwright.registry.manifest import Descriptor
from rollwright.registry.reference import ImageReference
from rollwright.registry.transport import pull_scope
from rollwright.registry.upload import RegistryUploader

log = get_logger(__name__)


class CopyResult(BaseModel):
    digest: str
    destination: str
    manifests: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0


class ImageCopier:
    def __init__(self, client: RegistryClient) -> None:
        self._client = client
        self._uploader = RegistryUploader(client.transport)

    async def copy(self, source: ImageReference, destination: ImageReference, tag: str | None = None) -> CopyResult:
        """Copy `source` (pinned by digest) into `destination`'s repository, then tag it if `tag` is given."""
        if source.digest is None:
            raise ValueError(f"copy source {source} must be pinned by digest")
        result = CopyResult(digest=source.digest, destination=destination.name)
        manifest = await self._copy_manifest(source, destination, source.digest, result)
        if tag is not None:
            await self._uploader.put_manifest(destination, tag, manifest[0], manifest[1])
        log.info("image_copied", source=str(source), tag=tag, **result.model_dump())
        return result

    async def _copy_manifest(
        self, source: ImageReference, destination: ImageReference, digest: str, result: CopyResult
    ) -> tuple[bytes, str]:
        manifest = await self._client.get_manifest(source.with_digest(digest))
        if manifest.is_index:
            for child in manifest.document.manifests:
                await self._copy_manifest(source, destination, child.digest, result)
        else:
            for blob in manifest.document.blobs():
                await self._copy_blob(source, destination, blob, result)
        await self._uploader.put_manifest(destination, digest, manifest.body, manifest.media_type)
        result.manifests += 1
        return manifest.body, manifest.media_type

    async def _copy_blob(
        self, source: ImageReference, destination: ImageReference, blob: Descriptor, result: CopyResult
    ) -> None:
        if await self._client.blob_exists(destination, blob.digest):
            result.blobs_present += 1
            return
        if source.api_host == destination.api_host and await self._uploader.mount_blob(
            destination, blob.digest, source.repository
        ):
            result.blobs_mounted += 1
            return
        if blob.size <= self._client.config.chunk_size:
            body = await self._client.get_blob(source, blob.digest)
            await self._uploader.upload_blob(destination, blob.digest, body)
        else:
            await self._uploader.upload_blob_chunks(destination, blob.digest, self._stream(source, blob))
        result.blobs_uploaded += 1

    async def _stream(self, source: ImageReference, blob: Descriptor) -> AsyncIterator[bytes]:
        response = await self._client.transport.request(
            "GET", source, f"blobs/{blob.digest}", scope=pull_scope(source.repository), stream=True
        )
        try:
            if response.status_code == 404:
                raise NotFoundError(f"blob {blob.digest} not found in {source.name} (HTTP 404)")
            if response.status_code != 200:
                raise RegistryProtocolError(
                    f"reading blob {blob.digest} from {source.name}: HTTP {response.status_code}"
                )
            async for chunk in response.aiter_bytes(self._client.config.chunk_size):
                yield chunk
        finally:
            await response.aclose()


async def copy_image(
    client: RegistryClient, source: ImageReference, destination: ImageReference, tag: str | None = None
) -> CopyResult:
    return await ImageCopier(client).copy(source, destination, tag)
