"""A stack's scratch GitOps working copy: where its program writes the region's manifests."""

from __future__ import annotations

from pathlib import Path

from rollwright.domain.identity import RegionTarget


def read_region_manifests(root: Path, target: RegionTarget) -> dict[str, str]:
    """The region directory's files, keyed by path relative to the repository root."""
    region_dir = root / target.gitops_path
    if not region_dir.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(region_dir.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }
