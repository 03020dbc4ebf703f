"""Rollwright's own generic form, for CI jobs and registries without a native format.

POST /webhooks/generic
Content-Type: application/json
X-Rollwright-Signature-256: sha256=<hex HMAC-SHA256 of the body>   (or a token)
X-Rollwright-Delivery: <unique id>                                   (optional)

{"repository": "registry.local:5000/shop/api", "tag": "v1.2.3", "digest": "sha256:…"}
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rollwright.domain.digest import Digest
from rollwright.webhooks.payloads.common import Extracted, ImagePush, Payload, body_fingerprint

SIGNATURE_HEADER = "x-rollwright-signature-256"
DELIVERY_HEADER = "x-rollwright-delivery"


class GenericPush(Payload):
    repository: str = Field(min_length=1, max_length=512)
    tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
    digest: Digest | None = None
    pushed_at: datetime | None = None
    actor: str | None = Field(default=None, max_length=200)


def extract(push: GenericPush, delivery_id: str | None, body: bytes) -> Extracted:
    return Extracted(
        pushes=[
            ImagePush(
                names=(push.repository,),
                tag=push.tag,
                digest=push.digest,
                delivery_id=delivery_id or body_fingerprint("generic", body),
                pushed_at=push.pushed_at,
                actor=push.actor,
            )
        ]
    )
