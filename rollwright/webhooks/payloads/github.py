"""GitHub Packages: the `package` webhook event for a container image published to ghcr.io.

GitHub signs every delivery with HMAC-SHA256 of the raw body (`X-Hub-Signature-256: sha256=<hex>`)
and names it with `X-GitHub-Delivery`. Only `published`/`updated` actions of container packages
count; other package types and events (GitHub's `ping`, for one) start nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rollwright.webhooks.payloads.common import Extracted, ImagePush, Payload, Skipped, names_for, sha256_or_none

EVENT_HEADER = "x-github-event"
DELIVERY_HEADER = "x-github-delivery"
SIGNATURE_HEADER = "x-hub-signature-256"
GHCR_HOST = "ghcr.io"
_CONTAINER_TYPES = frozenset({"container", "docker"})
_PUBLISH_ACTIONS = frozenset({"published", "updated"})


class GitHubContainerTag(Payload):
    name: str | None = None
    digest: str | None = None


class GitHubContainerMetadata(Payload):
    tag: GitHubContainerTag | None = None


class GitHubPackageVersion(Payload):
    id: int | None = None
    version: str | None = Field(default=None, description="for containers: the manifest digest")
    name: str | None = None
    container_metadata: GitHubContainerMetadata | None = None
    package_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class GitHubUser(Payload):
    login: str | None = None


class GitHubPackage(Payload):
    name: str = Field(min_length=1)
    namespace: str | None = None
    package_type: str
    owner: GitHubUser | None = None
    package_version: GitHubPackageVersion | None = None


class GitHubPackageEvent(Payload):
    action: str
    package: GitHubPackage
    sender: GitHubUser | None = None


def extract(event: GitHubPackageEvent, delivery_id: str) -> Extracted:
    package = event.package
    owner = package.namespace or (package.owner.login if package.owner else None)
    repository = f"{owner}/{package.name}".lower() if owner else package.name.lower()
    described = f"{event.action} {package.package_type} package {repository}"
    if package.package_type.lower() not in _CONTAINER_TYPES:
        return Extracted(skipped=[Skipped(event=described, reason="not a container package")])
    if event.action not in _PUBLISH_ACTIONS:
        return Extracted(skipped=[Skipped(event=described, reason=f"'{event.action}' package events start nothing")])
    version = package.package_version
    tag = version.container_metadata.tag if version and version.container_metadata else None
    if version is None or tag is None or not tag.name:
        return Extracted(skipped=[Skipped(event=described, reason="package version without a tag")])
    return Extracted(
        pushes=[
            ImagePush(
                names=names_for(repository, GHCR_HOST),
                tag=tag.name,
                digest=sha256_or_none(tag.digest) or sha256_or_none(version.version),
                delivery_id=delivery_id,
                pushed_at=version.updated_at or version.created_at,
                actor=event.sender.login if event.sender else None,
            )
        ]
    )
