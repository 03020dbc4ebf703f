"""Docker Hub repository webhooks.

One trigger (a push), no event type, no delivery id, no signature: Docker Hub's form takes only a name
and a URL, so the shared token travels in the URL path (`/webhooks/dockerhub/<token>`).
The payload names the tag but not the digest.
"""

from __future__ import annotations

from pydantic import Field

from rollwright.webhooks.payloads.common import (
    Extracted,
    ImagePush,
    Payload,
    Skipped,
    body_fingerprint,
    from_epoch,
    names_for,
)


class DockerHubPushData(Payload):
    pushed_at: float | None = None
    pusher: str | None = None
    tag: str | None = None


class DockerHubRepository(Payload):
    repo_name: str = Field(min_length=1, description="namespace/name")
    name: str | None = None
    namespace: str | None = None
    repo_url: str | None = None


class DockerHubPayload(Payload):
    callback_url: str | None = None
    push_data: DockerHubPushData
    repository: DockerHubRepository


def extract(payload: DockerHubPayload, body: bytes) -> Extracted:
    repo = payload.repository.repo_name
    if not payload.push_data.tag:
        return Extracted(skipped=[Skipped(event=f"push {repo}", reason="push without a tag")])
    return Extracted(
        pushes=[
            ImagePush(
                names=names_for(repo, "docker.io", "index.docker.io", "registry-1.docker.io"),
                tag=payload.push_data.tag,
                delivery_id=body_fingerprint("dockerhub", body),
                pushed_at=from_epoch(payload.push_data.pushed_at),
                actor=payload.push_data.pusher,
            )
        ]
    )
