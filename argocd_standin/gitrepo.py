"""Reading the GitOps repository with real git: resolve revisions, list app directories, load manifests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml


class GitError(RuntimeError):
    pass


class ManifestError(ValueError):
    """A file under the application's path is not valid Kubernetes YAML."""


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def _git(self, *args: str, check: bool = True) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "git",
            f"--git-dir={self._git_dir()}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        code = proc.returncode if proc.returncode is not None else -1
        if check and code != 0:
            raise GitError(f"git {' '.join(args)} failed: {err.decode(errors='replace').strip()}")
        return code, out.decode(errors="replace")

    def _git_dir(self) -> Path:
        dot_git = self.path / ".git"
        return dot_git if dot_git.exists() else self.path

    async def resolve(self, revision: str) -> str | None:
        """The commit SHA a branch, tag or (short) SHA names, or None."""
        code, out = await self._git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False)
        return out.strip() if code == 0 and out.strip() else None

    async def tree_id(self, sha: str, path: str) -> str | None:
        """The git tree of `path` at `sha` (None when the path does not exist there)."""
        code, out = await self._git("rev-parse", "--verify", "--quiet", f"{sha}:{path}", check=False)
        return out.strip() if code == 0 and out.strip() else None

    async def directories(self, sha: str, depth: int) -> list[str]:
        _, out = await self._git("ls-tree", "-r", "-d", "--name-only", sha)
        return [line for line in out.splitlines() if line.count("/") == depth - 1]

    async def manifests(self, sha: str, path: str) -> list[dict[str, Any]]:
        """Every Kubernetes object in the YAML/JSON files directly under `path`; [] when the path is gone."""
        if await self.tree_id(sha, path) is None:
            return []
        _, listing = await self._git("ls-tree", "--name-only", f"{sha}:{path}")
        objects: list[dict[str, Any]] = []
        for name in sorted(listing.splitlines()):
            if not name.endswith((".yaml", ".yml", ".json")):
                continue
            _, text = await self._git("show", f"{sha}:{path}/{name}")
            try:
                documents = list(yaml.safe_load_all(text))
            except yaml.YAMLError as exc:
                raise ManifestError(f"{path}/{name}: {exc}") from exc
            for doc in documents:
                if doc is None:
                    continue
                if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
                    raise ManifestError(f"{path}/{name}: every document needs apiVersion and kind")
                if not isinstance(doc.get("metadata"), dict) or not doc["metadata"].get("name"):
                    raise ManifestError(f"{path}/{name}: {doc['kind']} has no metadata.name")
                objects.append(doc)
        return objects
