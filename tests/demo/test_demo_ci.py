"""`make demo`'s --ci mode end to end: the real parts, a real rollout and a real rollback, and what they
leave behind in the version store and the GitOps history."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from demo import sample
from rollwright.domain.identity import RegionTarget
from rollwright.versionstore import VersionState, VersionStore

ROOT = Path(__file__).resolve().parents[2]


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


def test_demo_ends_with_v1_0_0_live_everywhere_and_v1_1_0_rolled_back_and_bad(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "demo", "--ci", "--workdir", str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, f"demo failed:\n{run.stdout[-4000:]}\n{run.stderr[-3000:]}"
    assert "v1.0.0 live in all 4 regions: yes" in run.stdout

    with VersionStore(f"sqlite:///{workdir / 'versions.db'}") as store:
        versions = {v.tag: v for v in store.versions(sample.SERVICE)}
        live = {(r.target.environment, r.target.region): r.tag for r in store.live_regions(sample.SERVICE)}
        bad = store.bad_mark(sample.SERVICE, versions["v1.1.0"].digest)
        good_mark = store.bad_mark(sample.SERVICE, versions["v1.0.0"].digest)
        last_good = {
            region: store.last_known_good(RegionTarget(service=sample.SERVICE, environment=env, region=region))
            for env, region in sample.ALL_REGIONS
        }
    assert live == dict.fromkeys(sample.ALL_REGIONS, "v1.0.0")
    assert versions["v1.1.0"].state == VersionState.BAD
    assert bad is not None
    assert "analysis" in bad.reason
    assert good_mark is None
    assert all(record is not None and record.tag == "v1.0.0" for record in last_good.values())

    gitops = workdir / "gitops.git"
    commits = _commits(gitops)
    by_purpose = Counter((c.get("Rollwright-Purpose"), c.get("Tag")) for c in commits)
    regions = len(sample.ALL_REGIONS)
    assert by_purpose[("deploy", "v1.0.0")] == regions
    # v1.1.0 reached every region before prod's second wave failed its canary; each one was rolled back once.
    assert by_purpose[("deploy", "v1.1.0")] == regions
    assert by_purpose[("rollback", "v1.0.0")] == regions
    rollbacks = [c["Rollwright-Target"] for c in commits if c.get("Rollwright-Purpose") == "rollback"]
    deployed_v11 = [
        c["Rollwright-Target"] for c in commits if c.get("Rollwright-Purpose") == "deploy" and c.get("Tag") == "v1.1.0"
    ]
    # Reverse order of change: the last region changed is the first rolled back (wave 2's order is a race).
    assert rollbacks[-2:] == list(reversed(deployed_v11[:2]))
    assert set(rollbacks[:2]) == set(deployed_v11[2:])

    good_digest = versions["v1.0.0"].digest
    for env, region in sample.ALL_REGIONS:
        rollout = yaml.safe_load(_git(gitops, "show", f"main:{env}/{region}/{sample.SERVICE}/rollout.yaml"))
        image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.endswith(f"@{good_digest}"), f"{env}/{region} pins {image}"
