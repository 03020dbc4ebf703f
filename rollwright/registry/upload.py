"""Writing to an OCI registry: blob mounts and uploads (monolithic or chunked) and manifest pushes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from rollwright.registry.errors import DigestMismatchError, RegistryProtocolError
from rollwright.registry.reference import ImageReference
from rollwright.registry.transport import DIGEST_HEADER, RegistryTransport, push_scope, require_location


def mount_scope(destination: str, source: str) -> str:
    return f"{push_scope(destination)} repository:{source}:pull"


class RegistryUploader:
    def __init__(self, transport: RegistryTransport) -> None:
        self._transport = transport

    async def mount_blob(self, destination: ImageReference, digest: str, source_repository: str) -> bool:
        """Cross-repository mount on the same registry; False when the registry chose not to mount."""
        scope = mount_scope(destination.repository, source_repository)
        response = await self._transport.request(
            "POST", destination, "blobs/uploads/", scope=scope, params={"mount": digest, "from": source_repository}
        )
        if response.status_code == 201:
            return True
        if response.status_code == 202:
            # The registry opened an ordinary upload instead; drop it so no half-upload lingers.
            location = require_location(response, f"mount of {digest}")
            await self._transport.request("DELETE", destination, location, scope=scope)
            return False
        raise RegistryProtocolError(f"mount of {digest} into {destination.name}: HTTP {response.status_code}")

    async def _start(self, destination: ImageReference) -> str:
        response = await self._transport.request(
            "POST", destination, "blobs/uploads/", scope=push_scope(destination.repository)
        )
        if response.status_code != 202:
            raise RegistryProtocolError(f"starting an upload to {destination.name}: HTTP {response.status_code}")
        return require_location(response, f"upload to {destination.name}")

    async def _finish(self, destination: ImageReference, location: str, digest: str, body: bytes) -> None:
        response = await self._transport.request(
            "PUT",
            destination,
            location,
            scope=push_scope(destination.repository),
            params={"digest": digest},
            headers={"Content-Type": "application/octet-stream"},
            content=body,
        )
        if response.status_code != 201:
            raise RegistryProtocolError(
                f"completing upload of {digest} to {destination.name}: "
                f"HTTP {response.status_code} {response.text[:200]}"
            )

    async def upload_blob(self, destination: ImageReference, digest: str, body: bytes) -> None:
        """Monolithic upload: one POST to open, one PUT with the whole body."""
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if actual != digest:
            raise DigestMismatchError(f"blob for {digest} hashes to {actual}", expected=digest, actual=actual)
        location = await self._start(destination)
        await self._finish(destination, location, digest, body)

    async def upload_blob_chunks(self, destination: ImageReference, digest: str, chunks: AsyncIterator[bytes]) -> None:
        """Chunked upload: PATCH each chunk at its offset, then PUT the digest to commit."""
        location = await self._start(destination)
        hasher = hashlib.sha256()
        offset = 0
        async for chunk in chunks:
            if not chunk:
                continue
            hasher.update(chunk)
            response = await self._transport.request(
                "PATCH",
                destination,
                location,
                scope=push_scope(destination.repository),
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                },
                content=chunk,
            )
            if response.status_code != 202:
                raise RegistryProtocolError(f"chunk at {offset} of {digest}: HTTP {response.status_code}")
            location = require_location(response, f"chunk at {offset} of {digest}")
            offset += len(chunk)
        actual = "sha256:" + hasher.hexdigest()
        if actual != digest:
            raise DigestMismatchError(f"streamed blob for {digest} hashes to {actual}", expected=digest, actual=actual)
        await self._finish(destination, location, digest, b"")

    async def put_manifest(self, destination: ImageReference, reference: str, body: bytes, media_type: str) -> str:
        """PUT exact manifest bytes under a tag or digest; returns the digest the registry stored."""
        response = await self._transport.request(
            "PUT",
            destination,
            f"manifests/{reference}",
            scope=push_scope(destination.repository),
            headers={"Content-Type": media_type},
            content=body,
        )
        if response.status_code != 201:
            raise RegistryProtocolError(
                f"pushing manifest {destination.name}:{reference}: HTTP {response.status_code} {response.text[:200]}"
            )
        expected = "sha256:" + hashlib.sha256(body).hexdigest()
        stored = str(response.headers.get(DIGEST_HEADER, expected))
        if stored != expected:
            raise DigestMismatchError(
                f"registry stored manifest {destination.name}:{reference} as {stored}", expected=expected, actual=stored
            )
        return stored
