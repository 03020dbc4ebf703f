"""Commit one region's rendered manifests to the GitOps remote, exactly once per deployment and region.

Each worker keeps its own clone. A commit is found again by its trailers, so a retried activity returns
the commit it already pushed; content that already matches the branch yields no commit at all. A push
the remote rejects (someone else pushed first) re-applies the region's files on the new head and tries
again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import shutil
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import stamina
from pydantic import BaseModel, ConfigDict

from rollwright.domain.identity import RegionTarget
from rollwright.gitops.errors import GitCommandError, GitOpsError, InvalidManifestPath, PushConflictError
from rollwright.gitops.git import Git
from rollwright.gitops.message import CommitIdentity, commit_message
from rollwright.gitops.stale_locks import remove_stale_locks
from rollwright.observability.logging import get_logger

log = get_logger(__name__)

_CLONE_LOCK_WAIT_SECONDS = 60.0


class _PushRejected(Exception):
    """The remote moved on since our fetch; the commit is re-applied on its new head."""


_REJECTED_MARKERS = ("[rejected]", "non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref")


class GitOpsSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    remote: str
    branch: str = "main"
    clone_dir: Path
    author_name: str = "Rollwright"
    author_email: str = "rollwright@localhost"
    max_push_attempts: int = 8
    git_timeout_seconds: float = 120.0


class CommitOutcome(BaseModel):
    sha: str
    created: bool


REMOVED_NOTE = "REMOVED.md"


def _removed_note(target: RegionTarget) -> str:
    return (
        f"# {target.service} is removed from {target.environment}/{target.region}\n\n"
        "Rollwright rolled back a first deployment here: there was no earlier version to return to. Argo CD syncs\n"
        "this directory to nothing; this note only keeps the path its Application points at.\n"
    )


def _validated(target: RegionTarget, manifests: dict[str, str]) -> dict[PurePosixPath, str]:
    region = PurePosixPath(target.gitops_path)
    files: dict[PurePosixPath, str] = {}
    for raw, content in manifests.items():
        path = PurePosixPath(raw)
        if path.is_absolute() or ".." in path.parts or region not in path.parents:
            raise InvalidManifestPath(raw, target.gitops_path)
        files[path] = content
    return files


class GitOpsRepository:
    def __init__(self, settings: GitOpsSettings) -> None:
        self._settings = settings
        self._git = Git(settings.clone_dir, settings.git_timeout_seconds)
        self._lock = asyncio.Lock()

    async def commit_region(
        self,
        identity: CommitIdentity,
        manifests: dict[str, str],
        tag: str | None = None,
        digest: str | None = None,
    ) -> CommitOutcome:
        files = _validated(identity.target, manifests)
        message = commit_message(identity, tag, digest)
        async with self._exclusive():
            await self._ensure_clone()
            # Someone else pushed first: fetch, re-apply the region's files on the new head, try again (budget:
            # max_push_attempts, jittered waits of at most 1 s between them).
            try:
                async for attempt in stamina.retry_context(
                    on=_PushRejected,
                    attempts=self._settings.max_push_attempts,
                    timeout=None,
                    wait_initial=0.05,
                    wait_max=1.0,
                    wait_jitter=0.2,
                ):
                    with attempt:
                        return await self._commit_once(identity, files, message, attempt.num)
            except _PushRejected:
                pass
        raise PushConflictError(self._settings.branch, self._settings.max_push_attempts)

    async def _commit_once(
        self, identity: CommitIdentity, files: dict[PurePosixPath, str], message: str, attempt: int
    ) -> CommitOutcome:
        remote_head = await self._fetch()
        if remote_head is not None:
            found = await self._find(identity)
            if found is not None:
                log.info("gitops_commit_found", target=identity.target.key, sha=found)
                return CommitOutcome(sha=found, created=False)
        await self._reset_to(remote_head)
        if not await self._stage(identity.target, files) and remote_head is not None:
            return CommitOutcome(sha=remote_head, created=False)
        await self._git.run("commit", "--quiet", "--allow-empty", "--file", "-", stdin=message)
        sha = await self._git.out("rev-parse", "HEAD")
        if not await self._push():
            log.info("gitops_push_rejected", target=identity.target.key, attempt=attempt)
            raise _PushRejected
        log.info("gitops_commit_pushed", target=identity.target.key, sha=sha, attempt=attempt)
        return CommitOutcome(sha=sha, created=True)

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """One commit at a time per clone: across tasks (asyncio lock) and processes (flock)."""
        lock_path = self._settings.clone_dir.with_name(self._settings.clone_dir.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            with lock_path.open("w") as handle:
                # Another worker process commits through this clone: its commit takes seconds (budget: 60 s).
                try:
                    async for attempt in stamina.retry_context(
                        on=BlockingIOError,
                        attempts=None,
                        timeout=_CLONE_LOCK_WAIT_SECONDS,
                        wait_initial=0.05,
                        wait_max=0.5,
                    ):
                        with attempt:
                            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise GitOpsError(
                        f"{lock_path}: another process held the clone for {_CLONE_LOCK_WAIT_SECONDS:g} s"
                    ) from None
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    async def _ensure_clone(self) -> None:
        """Make the clone usable, whatever a worker killed in the middle of a commit left of it."""
        clone = self._settings.clone_dir
        clone.mkdir(parents=True, exist_ok=True)
        # Before any git command: each would trip over a lock a killed git left.
        remove_stale_locks(clone)
        # In an existing clone `git init` only adds what is missing, so a creation cut short is completed.
        await self._git.run("init", "--quiet")
        code, _, _ = await self._git.run("remote", "get-url", "origin", check=False)
        await self._git.run("remote", "set-url" if code == 0 else "add", "origin", self._settings.remote)
        for key, value in (
            ("user.name", self._settings.author_name),
            ("user.email", self._settings.author_email),
            ("commit.gpgsign", "false"),
        ):
            await self._git.run("config", key, value)

    @property
    def _remote_ref(self) -> str:
        return f"refs/remotes/origin/{self._settings.branch}"

    async def _fetch(self) -> str | None:
        """The remote branch's head after fetching it, or None while the remote has no such branch."""
        listing = await self._git.out("ls-remote", "origin", f"refs/heads/{self._settings.branch}")
        if not listing:
            return None
        branch = self._settings.branch
        await self._git.run("fetch", "--quiet", "origin", f"+refs/heads/{branch}:{self._remote_ref}")
        return await self._git.out("rev-parse", self._remote_ref)

    async def _find(self, identity: CommitIdentity) -> str | None:
        wanted = {f"{key}: {value}" for key, value in identity.trailers().items()}
        log_text = await self._git.out(
            "log", self._remote_ref, "--fixed-strings", f"--grep={identity.workflow_id}", "--format=%H%x1f%B%x1e"
        )
        for entry in log_text.split("\x1e"):
            sha, _, body = entry.strip().partition("\x1f")
            if sha and wanted <= {line.strip() for line in body.splitlines()}:
                return sha
        return None

    async def _reset_to(self, remote_head: str | None) -> None:
        branch = self._settings.branch
        if remote_head is None:
            # First commit of an empty remote: start the branch with no history.
            await self._git.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")
            await self._git.run("update-ref", "-d", f"refs/heads/{branch}", check=False)
            await self._git.run("read-tree", "--empty")
        else:
            await self._git.run("checkout", "--quiet", "--force", "-B", branch, remote_head)
        await self._git.run("clean", "--quiet", "-fdx")

    async def _stage(self, target: RegionTarget, files: dict[PurePosixPath, str]) -> bool:
        """Make the region directory exactly `files`; True when that differs from the branch."""
        region_dir = self._settings.clone_dir / target.gitops_path
        shutil.rmtree(region_dir, ignore_errors=True)
        if not files:
            # Argo CD refuses an Application whose path does not exist (git keeps no empty directory), and a sync to
            # it fails; a note that is no manifest keeps the path, and Argo CD prunes the region to nothing.
            files = {PurePosixPath(target.gitops_path) / REMOVED_NOTE: _removed_note(target)}
        for path, content in files.items():
            destination = self._settings.clone_dir / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(content)
        # The tree was just reset to the remote head, so the region is the only thing that can differ.
        await self._git.run("add", "--all")
        code, _, _ = await self._git.run("diff", "--cached", "--quiet", check=False)
        return code != 0

    async def _push(self) -> bool:
        code, _, err = await self._git.run(
            "push", "--quiet", "origin", f"HEAD:refs/heads/{self._settings.branch}", check=False
        )
        if code == 0:
            return True
        if any(marker in err for marker in _REJECTED_MARKERS):
            return False
        raise GitCommandError(["push", "origin", self._settings.branch], code, err)
