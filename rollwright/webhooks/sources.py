"""The registry of webhook sources: how each one's payload is parsed and whether it signs its body."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rollwright.webhooks.payloads import distribution, dockerhub, generic, github, harbor, quay
from rollwright.webhooks.payloads.common import Extracted, Skipped, body_fingerprint

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
    parse: Callable[[Any, Mapping[str, str], bytes], Extracted]


def _distribution(data: Any, _: Mapping[str, str], __: bytes) -> Extracted:
    return distribution.extract(distribution.DistributionEnvelope.model_validate(data))


def _dockerhub(data: Any, _: Mapping[str, str], body: bytes) -> Extracted:
    return dockerhub.extract(dockerhub.DockerHubPayload.model_validate(data), body)


def _github(data: Any, headers: Mapping[str, str], body: bytes) -> Extracted:
    event = headers.get(github.EVENT_HEADER, "package")
    if event != "package":
        skipped = Skipped(event=f"github {event[:40]}", reason="only 'package' events start pipelines")
        return Extracted(skipped=[skipped])
    delivery = _header_id(headers, github.DELIVERY_HEADER) or body_fingerprint("github", body)
    return github.extract(github.GitHubPackageEvent.model_validate(data), delivery)


def _harbor(data: Any, _: Mapping[str, str], body: bytes) -> Extracted:
    return harbor.extract(harbor.HarborPayload.model_validate(data), body)


def _quay(data: Any, _: Mapping[str, str], body: bytes) -> Extracted:
    return quay.extract(quay.QuayPushPayload.model_validate(data), body)


def _generic(data: Any, headers: Mapping[str, str], body: bytes) -> Extracted:
    return generic.extract(generic.GenericPush.model_validate(data), _header_id(headers, generic.DELIVERY_HEADER), body)


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source("distribution", "CNCF Distribution registry notifications", None, _distribution),
        Source("dockerhub", "Docker Hub repository webhook", None, _dockerhub),
        Source("github", "GitHub Packages `package` event (ghcr.io)", github.SIGNATURE_HEADER, _github),
        Source("harbor", "Harbor PUSH_ARTIFACT webhook", None, _harbor),
        Source("quay", "Quay repository push notification", None, _quay),
        Source("generic", "Rollwright generic JSON push", generic.SIGNATURE_HEADER, _generic),
    )
}
