"""Lock files a killed git left in a worker's clone.

Git takes `<file>.lock` beside every file it rewrites (the index, HEAD, refs, the config) and renames it into
place when done. A git killed in between (its worker died with it) leaves the lock, and every later git command
that needs the file fails with "Unable to create '….lock': File exists" — every commit from that clone, until
someone removes it. Call this only while holding the clone's exclusive lock, so no Rollwright git runs in it; a
git that still runs there (the orphan of a worker killed without its children) owns its locks, and they stay.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from rollwright.observability.logging import get_logger

log = get_logger(__name__)


def _git_runs_in(clone: Path) -> bool:
    for proc in psutil.process_iter(["name", "cwd"]):
        name, cwd = proc.info["name"] or "", proc.info["cwd"]
        # cwd is None where we may not look (another user's process): that one cannot work in our clone.
        if name.startswith("git") and cwd is not None and Path(cwd).is_relative_to(clone):
            return True
    return False


def remove_stale_locks(clone: Path) -> list[Path]:
    """Remove the clone's git lock files when no git runs in it; returns what was removed."""
    git_dir = clone / ".git"
    locks = sorted(git_dir.rglob("*.lock")) if git_dir.is_dir() else []
    if not locks or _git_runs_in(clone.resolve()):
        return []
    for lock in locks:
        lock.unlink(missing_ok=True)
    log.warning("git_stale_locks_removed", clone=str(clone), locks=[str(p.relative_to(git_dir)) for p in locks])
    return locks
