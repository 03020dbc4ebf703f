"""Quay (quay.io, Red Hat Quay) "Repository Push" notifications.

Quay sends no signature and no delivery id, so the shared token goes in the URL path
(`/webhooks/quay/<token>`). `updated_tags` is a list of tags (older Quay: a map of tag to image id,
which is not a manifest digest and is not used).
"""

from __future__ import annotations

from pydantic import Field

from rollwright.webhooks.payloads.common import Extracted, ImagePush, Payload, Skipped, body_fingerprint


class QuayPushPayload(Payload):
    name: str | None = None
    repository: str = Field(min_length=1, description="namespace/name")
    namespace: str | None = None
    docker_url: str | None = Field(default=None, description="host/namespace/name")
    homepage: str | None = None
    updated_tags: list[str] | dict[str, str]


def extract(payload: QuayPushPayload, body: bytes) -> Extracted:
    tags = list(payload.updated_tags)
    if not tags:
        return Extracted(skipped=[Skipped(event=f"push {payload.repository}", reason="push updated no tag")])
    names: tuple[str, ...] = (payload.repository,)
    if payload.docker_url and payload.docker_url != payload.repository:
        names = (payload.docker_url, payload.repository)
    base_id = body_fingerprint("quay", body)
    return Extracted(
        pushes=[
            ImagePush(names=names, tag=tag, delivery_id=f"{base_id}-{tag}" if len(tags) > 1 else base_id)
            for tag in tags
        ]
    )
