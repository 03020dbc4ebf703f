"""Image references (`host:port/path[:tag][@digest]`) parsed once, with Docker's rules for the short forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rollwright.registry.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
# Docker Hub's API lives at a different host than the name people write.
_DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST_RE = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::[0-9]{1,5})?$")


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference. `reference` is what goes after `/manifests/`: the digest if pinned, else the tag."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        if self.digest is not None:
            return self.digest
        return self.tag or "latest"

    @property
    def api_host(self) -> str:
        return _DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def name(self) -> str:
        """`host/repository`: the repository as people and the config write it."""
        return f"{self.host}/{self.repository}"

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self.host, self.repository, self.tag, digest)

    def with_tag(self, tag: str) -> ImageReference:
        return ImageReference(self.host, self.repository, tag, None)

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _looks_like_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


def parse_reference(text: str) -> ImageReference:
    """Parse `[host[:port]/]path[:tag][@digest]`; a reference without a host means Docker Hub."""
    original = text
    if not text or text != text.strip():
        raise InvalidReferenceError(f"image reference {original!r} is empty or has surrounding whitespace")
    digest: str | None = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise InvalidReferenceError(f"image reference {original!r}: {digest!r} is not a digest (algo:hex)")
    host = DOCKER_HUB
    first, sep, rest = text.partition("/")
    if sep and _looks_like_host(first):
        if not _HOST_RE.match(first):
            raise InvalidReferenceError(f"image reference {original!r}: {first!r} is not a valid registry host")
        host, text = first, rest
    tag: str | None = None
    last_slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > last_slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidReferenceError(f"image reference {original!r}: {tag!r} is not a valid tag")
    components = text.split("/")
    for component in components:
        if not _COMPONENT_RE.match(component):
            raise InvalidReferenceError(
                f"image reference {original!r}: path component {component!r} must be lowercase letters, "
                "digits and single separators (. _ __ -)"
            )
    if host == DOCKER_HUB and len(components) == 1:
        text = f"library/{text}"
    return ImageReference(host=host, repository=text, tag=tag, digest=digest)


def parse_repository(text: str) -> ImageReference:
    """Parse a repository with no tag or digest (what the config's `image:` names)."""
    ref = parse_reference(text)
    if ref.tag is not None or ref.digest is not None:
        raise InvalidReferenceError(f"{text!r} names a tag or digest; expected a repository only")
    return ref
