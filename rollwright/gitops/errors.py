"""Everything the GitOps client raises.

GitOpsError
├── GitCommandError       a git command failed (network, permissions, a broken clone): retry
├── PushConflictError     the remote kept moving; attempts ran out: retry later
└── InvalidManifestPath   a manifest path leaves the region's directory: never retry
"""

from __future__ import annotations


class GitOpsError(Exception):
    """Base of every GitOps failure."""


class GitCommandError(GitOpsError):
    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()[-2000:]}")
        self.args_ = args
        self.returncode = returncode
        self.stderr = stderr


class PushConflictError(GitOpsError):
    def __init__(self, branch: str, attempts: int) -> None:
        super().__init__(f"push to {branch} was rejected {attempts} times: the remote keeps moving")


class InvalidManifestPath(GitOpsError):
    def __init__(self, path: str, region_dir: str) -> None:
        super().__init__(f"manifest path {path!r} is not inside the region directory {region_dir!r}")
