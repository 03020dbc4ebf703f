"""One rendered manifest as a resource: a file in the GitOps working copy, written by a dynamic provider.

The file on disk is the real state: a diff also notices a missing or edited file (a fresh working copy on
another worker), so the next `up` rewrites it instead of trusting the stack's memory.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


def content_sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def _target(props: dict[str, Any]) -> Path:
    root = Path(props["root"])
    path = (root / str(props["path"])).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"manifest path {props['path']!r} escapes the working copy {root}")
    return path


def _on_disk(props: dict[str, Any]) -> str | None:
    try:
        return _target(props).read_text()
    except FileNotFoundError:
        return None


def _write(props: dict[str, Any]) -> dict[str, Any]:
    path = _target(props)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(props["content"])
    os.replace(scratch, path)
    outs = {key: value for key, value in props.items() if not key.startswith("__")}
    return {**outs, "sha256": content_sha256(props["content"])}


class ManifestFileProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["path"], outs=_write(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("path") != news.get("path"):
            return DiffResult(changes=True, replaces=["path"])
        changed = olds.get("content") != news.get("content") or olds.get("environment") != news.get("environment")
        drifted = _on_disk(news) != news.get("content")
        return DiffResult(changes=changed or drifted, replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_write(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        path = _target(props)
        path.unlink(missing_ok=True)
        root = Path(props["root"]).resolve()
        parent = path.parent
        # Prune the region's now-empty directories, never the working copy itself. Pulumi deletes a region's
        # files in parallel, so a sibling may prune (or still fill) a directory between our look and our rmdir.
        while parent != root and parent.is_relative_to(root):
            try:
                parent.rmdir()
            except FileNotFoundError:
                pass
            except OSError as error:
                if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return
                raise
            parent = parent.parent


class ManifestFile(Resource, module="rollwright", name="ManifestFile"):
    path: pulumi.Output[str]
    sha256: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        root: str,
        path: str,
        content: pulumi.Input[str],
        environment: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ManifestFileProvider(),
            name,
            {"root": root, "path": path, "content": content, "environment": environment, "sha256": None},
            opts,
        )
