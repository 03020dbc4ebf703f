"""CNCF Distribution (`registry:2`, docker-registry) notifications.

The registry POSTs an envelope of several events (media type
`application/vnd.docker.distribution.events.v1+json`, v2 since Distribution 3). Pushes of blobs,
pulls, mounts and deletes arrive in the same envelopes; only a manifest pushed under a tag counts.
Distribution does not sign its deliveries: it sends the static headers its `notifications` config
names, which is where Rollwright's token goes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rollwright.webhooks.payloads.common import Extracted, ImagePush, Payload, Skipped, names_for, sha256_or_none

MANIFEST_MEDIA_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)


class DistributionTarget(Payload):
    media_type: str | None = Field(default=None, alias="mediaType")
    digest: str | None = None
    size: int | None = None
    repository: str
    url: str | None = None
    tag: str | None = None


class DistributionRequest(Payload):
    id: str | None = None
    addr: str | None = None
    host: str | None = None
    method: str | None = None
    useragent: str | None = None


class DistributionActor(Payload):
    name: str | None = None


class DistributionEvent(Payload):
    id: str = Field(min_length=1)
    timestamp: datetime | None = None
    action: str
    target: DistributionTarget
    request: DistributionRequest | None = None
    actor: DistributionActor | None = None


class DistributionEnvelope(Payload):
    events: list[DistributionEvent]


def _is_manifest(target: DistributionTarget) -> bool:
    if target.media_type in MANIFEST_MEDIA_TYPES:
        return True
    return target.url is not None and "/manifests/" in target.url


def extract(envelope: DistributionEnvelope) -> Extracted:
    result = Extracted()
    for event in envelope.events:
        target = event.target
        described = f"{event.action} {target.repository}{':' + target.tag if target.tag else ''}"
        if event.action != "push":
            result.skipped.append(Skipped(event=described, reason=f"{event.action} events start nothing"))
        elif not _is_manifest(target):
            result.skipped.append(Skipped(event=f"blob push {target.repository}", reason="blob pushes start nothing"))
        elif not target.tag:
            result.skipped.append(Skipped(event=described, reason="manifest pushed by digest, without a tag"))
        else:
            host = event.request.host if event.request else None
            result.pushes.append(
                ImagePush(
                    names=names_for(target.repository, host),
                    tag=target.tag,
                    digest=sha256_or_none(target.digest),
                    delivery_id=event.id,
                    pushed_at=event.timestamp,
                    actor=event.actor.name if event.actor and event.actor.name else None,
                )
            )
    return result
