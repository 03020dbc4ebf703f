"""A real GitOps repository for tests: a bare repo plus a working clone that commits region manifests.

Manifests have the shape Rollwright's stacks render: an argoproj.io/v1alpha1 Rollout with canary steps,
a Service and a ConfigMap under `<env>/<region>/<service>/`.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@localhost",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": "/usr/bin:/bin",
}

DEFAULT_STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {"duration": "10s"}},
    {"setWeight": 50},
    {"pause": {"duration": "10s"}},
    {"setWeight": 80},
    {"pause": {"duration": "10s"}},
]


def digest_for(tag: str) -> str:
    return "sha256:" + hashlib.sha256(tag.encode()).hexdigest()


def rollout_manifests(
    service: str,
    tag: str,
    *,
    steps: list[dict[str, Any]] | None = None,
    image: str = "registry.local:5000/shop",
    progress_deadline_seconds: int | None = None,
    progress_deadline_abort: bool = False,
) -> dict[str, str]:
    digest = digest_for(tag)
    labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/version": tag}
    spec: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"app.kubernetes.io/name": service}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": service, "image": f"{image}/{service}@{digest}"}]},
        },
        "strategy": {"canary": {"steps": steps if steps is not None else DEFAULT_STEPS}},
    }
    if progress_deadline_seconds is not None:
        spec["progressDeadlineSeconds"] = progress_deadline_seconds
    if progress_deadline_abort:
        spec["progressDeadlineAbort"] = True
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": service, "labels": labels},
        "spec": spec,
    }
    service_obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service},
        "spec": {"selector": {"app.kubernetes.io/name": service}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{service}-config"},
        "data": {"VERSION": tag},
    }
    return {
        "rollout.yaml": yaml.safe_dump(rollout),
        "service.yaml": yaml.safe_dump(service_obj),
        "configmap.yaml": yaml.safe_dump(config),
    }


class GitOpsRepo:
    def __init__(self, root: Path) -> None:
        self.bare = root / "gitops.git"
        self.work = root / "gitops-work"
        self._git("init", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        self._git("clone", str(self.bare), str(self.work), cwd=root)
        self._git("checkout", "-b", "main")
        (self.work / "README.md").write_text("GitOps repository (test)\n")
        self._git("add", "README.md")
        self._git("commit", "-m", "init")
        self._git("push", "origin", "main")

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=GIT_ENV, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def commit_region(self, env: str, region: str, service: str, files: dict[str, str], message: str) -> str:
        """Replace the region's directory with `files`, commit, push; return the commit SHA."""
        directory = self.work / env / region / service
        if directory.exists():
            for old in directory.iterdir():
                old.unlink()
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text)
        self._git("add", "-A", ".")
        self._git("commit", "--allow-empty", "-m", message)
        self._git("push", "origin", "main")
        return self._git("rev-parse", "HEAD")

    def deploy(self, env: str, region: str, service: str, tag: str, **kwargs: Any) -> str:
        return self.commit_region(env, region, service, rollout_manifests(service, tag, **kwargs), f"{service} {tag}")

    def remove_region(self, env: str, region: str, service: str) -> str:
        self._git("rm", "-r", "-q", f"{env}/{region}/{service}")
        self._git("commit", "-m", f"remove {service} from {env}/{region}")
        self._git("push", "origin", "main")
        return self._git("rev-parse", "HEAD")
