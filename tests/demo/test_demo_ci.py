"""`make demo`'s --ci mode end to end: the real parts (the local cluster with the real Argo CD and Argo Rollouts,
Prometheus among them) running while it runs and gone when it ends, a real rollout and a rollback on a real
measurement, and what they leave behind in the version store and the GitOps history."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import yaml

from demo import sample
from devstack.leftovers import SESSION_MARKER, processes_with_marker
from rollwright.domain.identity import RegionTarget
from rollwright.versionstore import VersionState, VersionStore

ROOT = Path(__file__).resolve().parents[2]
# Set-up about a minute, both deployments about five more on a loaded 2-core machine.
DEMO_TIMEOUT = 720.0
# Beyond the demo's own budget: stopping it (SIGTERM, as Ctrl-C) and the leftover check.
TEST_TIMEOUT = int(DEMO_TIMEOUT) + 180
# What must run while the demo does: each by its process name, or Argo CD's role (one binary, three roles).
COMPONENTS = frozenset(
    {
        "kube-apiserver",
        "argocd-server",
        "argocd-repo-server",
        "argocd-application-controller",
        "rollouts-controller",
        "kwok",
        "redis-server",
        "prometheus",
    }
)
ARGOCD_ROLE_ENV = "ARGOCD_BINARY_NAME"
# A process stopped with SIGKILL may take a moment to be reaped.
LEFTOVER_GRACE = 10.0


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=True).stdout


def _commits(repo: Path) -> list[dict[str, str]]:
    """Every commit's trailers (Rollwright-Target, Rollwright-Purpose, Tag …), oldest first."""
    out = _git(repo, "log", "--reverse", "--format=%H%x00%B%x1e")
    commits = []
    for record in filter(str.strip, out.split("\x1e")):
        sha, body = record.strip().split("\x00", 1)
        fields = {"sha": sha}
        for line in body.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value
        commits.append(fields)
    return commits


@dataclass
class _Watch:
    """What was seen of the demo's processes while it ran: every descendant of it, by pid (psutil tells a reused pid
    apart), and the parts they are. By descent, not by the session marker alone: redis overwrites its environment
    with its process title, so the marker cannot find it."""

    processes: dict[int, psutil.Process] = field(default_factory=dict)
    parts: set[str] = field(default_factory=set)

    def look(self, demo: psutil.Process) -> None:
        try:
            children = demo.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for proc in children:
            self.processes.setdefault(proc.pid, proc)
            try:
                # name(), not argv[0]: redis rewrites its command line too ("redis-server 127.0.0.1:port").
                self.parts.add(proc.environ().get(ARGOCD_ROLE_ENV) or proc.name())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue

    def left_running(self, marker: str) -> list[str]:
        """Every process of the demo still running: one it started, or any other with its marker."""
        deadline = time.monotonic() + LEFTOVER_GRACE
        while True:
            left = dict(processes_with_marker(marker))
            for pid, proc in self.processes.items():
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                        left[pid] = " ".join(proc.cmdline())
            if not left or time.monotonic() > deadline:
                return [f"pid {pid}: {cmd[:160]}" for pid, cmd in sorted(left.items())]
            time.sleep(0.5)


def _run_demo(workdir: Path, marker: str, log: Path) -> tuple[int, str, _Watch]:
    """Run `python -m demo --ci`; its exit code, its output, and what was seen of its processes meanwhile."""
    watch = _Watch()
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "demo", "--ci", "--workdir", str(workdir)],
            cwd=ROOT,
            env={**os.environ, SESSION_MARKER: marker},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            watched = psutil.Process(demo.pid)
            deadline = time.monotonic() + DEMO_TIMEOUT
            while demo.poll() is None and time.monotonic() < deadline:
                watch.look(watched)
                time.sleep(1.0)
            timed_out = demo.poll() is None
        finally:
            if demo.poll() is None:
                # As Ctrl-C does: the demo stops every part it started.
                demo.terminate()
                demo.wait(timeout=120)
    output = log.read_text()
    assert not timed_out, f"the demo did not end within {DEMO_TIMEOUT:.0f}s:\n{output[-6000:]}"
    return demo.returncode, output, watch


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT)
def test_demo_ends_with_v1_0_0_live_everywhere_and_both_later_versions_rolled_back_and_bad(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    # Its own marker: the demo's processes told apart from the session's (which may run a cluster too).
    marker = f"demo-{uuid.uuid4().hex}"

    code, output, watch = _run_demo(workdir, marker, tmp_path / "demo.log")

    assert code == 0, f"demo failed (exit {code}):\n{output[-6000:]}"
    missing = COMPONENTS - watch.parts
    assert not missing, f"never seen running during the demo: {sorted(missing)}"
    left = watch.left_running(marker)
    assert not left, "the demo left processes running:\n  " + "\n  ".join(left)
    assert "v1.0.0 live in all 4 regions: yes" in output
    assert f"v1.0.0 watched for {sample.WATCH_SECONDS}s, then succeeded: yes" in output
    # The report says which check failed and what it measured: v1.1.0 answered 20% of requests with 5xx.
    assert "success-rate measured 0.8" in output
    assert "phase: watching (prod) until" in output
    assert f"caught inside the {sample.WATCH_SECONDS}s window and rolled back in every region: yes" in output
    assert "set-up took" in output

    with VersionStore(f"sqlite:///{workdir / 'versions.db'}") as store:
        versions = {v.tag: v for v in store.versions(sample.SERVICE)}
        live = {(r.target.environment, r.target.region): r.tag for r in store.live_regions(sample.SERVICE)}
        bad = {tag: store.bad_mark(sample.SERVICE, versions[tag].digest) for tag in ("v1.1.0", "v1.2.0")}
        good_mark = store.bad_mark(sample.SERVICE, versions["v1.0.0"].digest)
        last_good = {
            region: store.last_known_good(RegionTarget(service=sample.SERVICE, environment=env, region=region))
            for env, region in sample.ALL_REGIONS
        }
    assert live == dict.fromkeys(sample.ALL_REGIONS, "v1.0.0")
    assert versions["v1.1.0"].state == VersionState.BAD
    assert versions["v1.2.0"].state == VersionState.BAD
    v11_mark, v12_mark = bad["v1.1.0"], bad["v1.2.0"]
    assert v11_mark is not None
    assert "success-rate measured 0.8" in v11_mark.reason, v11_mark.reason
    # Rollwright's own check caught v1.2.0 once it was live everywhere: its reason names the check and a region.
    assert v12_mark is not None
    assert f"{sample.WATCH_CHECK_NAME} in" in v12_mark.reason, v12_mark.reason
    assert good_mark is None
    assert all(record is not None and record.tag == "v1.0.0" for record in last_good.values())

    gitops = workdir / "gitops.git"
    commits = _commits(gitops)
    by_purpose = Counter((c.get("Rollwright-Purpose"), c.get("Tag")) for c in commits)
    regions = len(sample.ALL_REGIONS)
    assert by_purpose[("deploy", "v1.0.0")] == regions
    # v1.1.0 reached every region before prod's second wave failed its canary; v1.2.0 every region before its watch
    # caught it. Each one was rolled back once in every region.
    assert by_purpose[("deploy", "v1.1.0")] == regions
    assert by_purpose[("deploy", "v1.2.0")] == regions
    assert by_purpose[("rollback", "v1.0.0")] == 2 * regions
    for tag in ("v1.1.0", "v1.2.0"):
        deployed_at = [
            i for i, c in enumerate(commits) if c.get("Rollwright-Purpose") == "deploy" and c.get("Tag") == tag
        ]
        after = commits[deployed_at[-1] + 1 :]
        deployed = [commits[i]["Rollwright-Target"] for i in deployed_at]
        rollbacks = [c["Rollwright-Target"] for c in after if c.get("Rollwright-Purpose") == "rollback"][:regions]
        assert sorted(rollbacks) == sorted(deployed), (tag, rollbacks, deployed)
        # Prod unwinds its waves in reverse order of change: its second wave first (two regions at once, so in either
        # order), then its first. Staging's lane hears of the rollback as it starts and unwinds alongside, so its
        # commit may land anywhere among prod's.
        prod_deployed = [target for target in deployed if "/prod/" in target]
        prod_rollbacks = [target for target in rollbacks if "/prod/" in target]
        assert set(prod_rollbacks[:2]) == set(prod_deployed[1:]), (tag, rollbacks, deployed)
        assert prod_rollbacks[2:] == prod_deployed[:1], (tag, rollbacks, deployed)

    good_digest = versions["v1.0.0"].digest
    for env, region in sample.ALL_REGIONS:
        rollout = yaml.safe_load(_git(gitops, "show", f"main:{env}/{region}/{sample.SERVICE}/rollout.yaml"))
        image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.endswith(f"@{good_digest}"), f"{env}/{region} pins {image}"
