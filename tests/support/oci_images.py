"""Push small real images to a launched registry from any test (webhooks, pipelines, demo-like flows).

The building and pushing lives in `oci.push` so the demo can use it too; this adds the shapes tests want.
"""

from __future__ import annotations

from devstack.images import (
    BuiltManifest,
    build_image,
    build_index,
    push_image,
    push_index,
    push_manifest,
)

__all__ = ["BuiltManifest", "build_image", "build_index", "push_image", "push_index", "push_manifest"]
