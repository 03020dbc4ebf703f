"""The registry of webhook sources: how each one's payload is parsed and whether it signs its body."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rollwright.webhooks.payloads import distribution, dockerhub, generic, github, harbor, quay
from rollwright.webhooks.payloads.common import Extracted, Payload, Skipped, body_fingerprint

_DELIVERY_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header_id(headers: Mapping[str, str], name: str) -> str | None:
    """A sender-chosen delivery id, kept only when it is short and plain (it lands in workflow history)."""
    value = headers.get(name)
    return value if value is not None and _DELIVERY_ID_RE.match(value) else None


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    # Header carrying `sha256=<hex HMAC-SHA256 of the raw body>`; None when the source cannot sign.
    signature_header: str | None
    # The body's model, and what its pushes are (given the validated body, the headers and the raw body).
    payload: type[Payload]
    extract: Callable[[Any, Mapping[str, str], bytes], Extracted]
    # Deliveries answered from their headers alone, the body only checked to be JSON (GitHub's other events).
    skip: Callable[[Mapping[str, str]], Skipped | None] = lambda _: None


def _distribution(envelope: distribution.DistributionEnvelope, _: Mapping[str, str], __: bytes) -> Extracted:
    return distribution.extract(envelope)


def _dockerhub(payload: dockerhub.DockerHubPayload, _: Mapping[str, str], body: bytes) -> Extracted:
    return dockerhub.extract(payload, body)


def _github_skip(headers: Mapping[str, str]) -> Skipped | None:
    event = headers.get(github.EVENT_HEADER, "package")
    if event != "package":
        return Skipped(event=f"github {event[:40]}", reason="only 'package' events start deployments")
    return None


def _github(event: github.GitHubPackageEvent, headers: Mapping[str, str], body: bytes) -> Extracted:
    delivery = _header_id(headers, github.DELIVERY_HEADER) or body_fingerprint("github", body)
    return github.extract(event, delivery)


def _harbor(payload: harbor.HarborPayload, _: Mapping[str, str], body: bytes) -> Extracted:
    return harbor.extract(payload, body)


def _quay(payload: quay.QuayPushPayload, _: Mapping[str, str], body: bytes) -> Extracted:
    return quay.extract(payload, body)


def _generic(push: generic.GenericPush, headers: Mapping[str, str], body: bytes) -> Extracted:
    return generic.extract(push, _header_id(headers, generic.DELIVERY_HEADER), body)


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source(
            "distribution",
            "CNCF Distribution registry notifications",
            None,
            distribution.DistributionEnvelope,
            _distribution,
        ),
        Source("dockerhub", "Docker Hub repository webhook", None, dockerhub.DockerHubPayload, _dockerhub),
        Source(
            "github",
            "GitHub Packages `package` event (ghcr.io)",
            github.SIGNATURE_HEADER,
            github.GitHubPackageEvent,
            _github,
            _github_skip,
        ),
        Source("harbor", "Harbor PUSH_ARTIFACT webhook", None, harbor.HarborPayload, _harbor),
        Source("quay", "Quay repository push notification", None, quay.QuayPushPayload, _quay),
        Source("generic", "Rollwright generic JSON push", generic.SIGNATURE_HEADER, generic.GenericPush, _generic),
    )
}
