"""Image digests and references: one definition of what a pinned image looks like."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from pydantic import StringConstraints

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
_DIGEST_RE = re.compile(DIGEST_PATTERN)

Digest = Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]


def is_digest(value: str) -> bool:
    return bool(_DIGEST_RE.match(value))


def sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def short(digest: str) -> str:
    """`sha256:0123456789ab` — enough to recognise a digest in a summary line."""
    return digest[:19]


def pinned_image(repository: str, digest: str) -> str:
    """`registry/repo@sha256:…` — the only form of image reference Rollwright ever deploys."""
    return f"{repository}@{digest}"
