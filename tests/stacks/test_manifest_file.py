"""Removing a region's manifests: Pulumi deletes its files in parallel, and each delete prunes empty folders."""

from __future__ import annotations

from pathlib import Path

from rollwright.stacks.manifest_file import ManifestFileProvider


def _props(root: Path, path: str) -> dict[str, str]:
    return {"root": str(root), "path": path, "content": "kind: ConfigMap\n", "environment": "staging"}


def test_deleting_the_last_files_prunes_the_region_but_keeps_the_working_copy(tmp_path: Path) -> None:
    provider = ManifestFileProvider()
    for name in ("rollout.yaml", "service.yaml"):
        provider.create(_props(tmp_path, f"staging/local-a/shop/{name}"))
    (tmp_path / "README.md").write_text("kept\n")

    provider.delete("rollout", _props(tmp_path, "staging/local-a/shop/rollout.yaml"))
    assert (tmp_path / "staging/local-a/shop/service.yaml").exists()

    provider.delete("service", _props(tmp_path, "staging/local-a/shop/service.yaml"))
    assert not (tmp_path / "staging").exists()
    assert (tmp_path / "README.md").exists()


def test_a_delete_whose_folder_a_sibling_delete_already_pruned_succeeds(tmp_path: Path) -> None:
    provider = ManifestFileProvider()
    provider.create(_props(tmp_path, "staging/local-a/shop/configmap.yaml"))
    provider.create(_props(tmp_path, "staging/local-a/shop/rollout.yaml"))
    # The sibling's delete ran to the end first: the file and its folders are gone before this delete starts.
    (tmp_path / "staging/local-a/shop/configmap.yaml").unlink()
    (tmp_path / "staging/local-a/shop/rollout.yaml").unlink()
    (tmp_path / "staging/local-a/shop").rmdir()

    provider.delete("configmap", _props(tmp_path, "staging/local-a/shop/configmap.yaml"))

    assert not (tmp_path / "staging").exists()
