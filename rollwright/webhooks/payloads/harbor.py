"""Harbor project webhooks: `PUSH_ARTIFACT`, in Harbor's Default payload format or as a CloudEvent.

Harbor does not sign deliveries; its webhook form has an "Auth Header" field whose value it sends as
the `Authorization` header, so set it to `Bearer <token>`. One push may carry several resources
(tags of one artifact); each becomes its own hint. Harbor sends no delivery id.
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
    sha256_or_none,
)

PUSH_TYPES = frozenset({"PUSH_ARTIFACT", "harbor.artifact.pushed"})


class HarborResource(Payload):
    digest: str | None = None
    tag: str | None = None
    resource_url: str | None = None


class HarborRepository(Payload):
    name: str | None = None
    namespace: str | None = None
    repo_full_name: str = Field(min_length=1, description="project/repository")


class HarborEventData(Payload):
    resources: list[HarborResource] = Field(default_factory=list)
    repository: HarborRepository


class HarborPayload(Payload):
    """The Default format; a CloudEvents delivery carries the same `event_data` under `data`."""

    type: str
    occur_at: float | None = None
    operator: str | None = None
    event_data: HarborEventData | None = None
    # CloudEvents format
    id: str | None = None
    data: HarborEventData | None = None


def _host(resource_url: str | None) -> str | None:
    """`harbor.example.com/library/app:v1` → `harbor.example.com` (a bare `project/repo` has no host)."""
    if not resource_url or "/" not in resource_url:
        return None
    first = resource_url.split("/", 1)[0]
    return first if "." in first or ":" in first or first == "localhost" else None


def extract(payload: HarborPayload, body: bytes) -> Extracted:
    data = payload.event_data or payload.data
    if payload.type not in PUSH_TYPES:
        return Extracted(skipped=[Skipped(event=payload.type, reason=f"{payload.type} events start nothing")])
    if data is None:
        return Extracted(skipped=[Skipped(event=payload.type, reason="push event without event_data")])
    repo = data.repository.repo_full_name
    base_id = payload.id or body_fingerprint("harbor", body)
    result = Extracted()
    for index, resource in enumerate(data.resources):
        if not resource.tag or resource.tag == resource.digest:
            result.skipped.append(Skipped(event=f"push {repo}", reason="artifact pushed without a tag"))
            continue
        result.pushes.append(
            ImagePush(
                names=names_for(repo, _host(resource.resource_url)),
                tag=resource.tag,
                digest=sha256_or_none(resource.digest),
                delivery_id=base_id if len(data.resources) == 1 else f"{base_id}-{index}",
                pushed_at=from_epoch(payload.occur_at),
                actor=payload.operator,
            )
        )
    return result
