"""What a container image tag may look like (the OCI distribution spec's grammar)."""

from __future__ import annotations

import re

# Anything else is not a tag a deployment could pin.
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


def valid_tag(tag: str) -> bool:
    return bool(_TAG_RE.match(tag))
