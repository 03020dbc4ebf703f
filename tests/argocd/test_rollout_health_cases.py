"""Rollwright's reading of a Rollout against Argo CD's health of it, case by case (tests/argocd/rollout_cases.py):
Argo CD's side is computed by the real argocd binary's own health check, Rollwright's by interpret_rollout, so every
difference the cases claim is seen to hold on both sides, and each one has its reason written down."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.cluster.tools import cluster_tools
from rollwright.argocd.rollout_status import RolloutVerdict, interpret_rollout
from tests.argocd.rollout_cases import CASES, DIGEST, Case

# Plenty for one run of the health check (about 0.4 s on a quiet machine).
HEALTH_TIMEOUT = 60
ARGOCD_CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cm, namespace: argocd}
data: {}
"""


def _argocd_health(argocd: Path, workdir: Path, case: Case) -> str:
    """`argocd admin settings resource-overrides health`: the health Argo CD's controller would give this object,
    with no customisation in argocd-cm, so the built-in Rollout check decides."""
    manifest = workdir / f"{CASES.index(case)}.json"
    manifest.write_text(json.dumps(case.rollout))
    # HOME points away from any argocd CLI config of the machine, and no KUBECONFIG: the check reads files only.
    env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"} | {"HOME": str(workdir)}
    command = ["admin", "settings", "resource-overrides", "health", str(manifest)]
    done = subprocess.run(
        [str(argocd), *command, "--argocd-cm-path", str(workdir / "argocd-cm.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=HEALTH_TIMEOUT,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("STATUS: "):
            return line.removeprefix("STATUS: ").strip()
    raise AssertionError(f"argocd health check of {case.name!r} gave no status (exit {done.returncode}): {done.stderr}")


@pytest.fixture(scope="module")
def argocd_health(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Argo CD's health of every case, from the argocd binary the local cluster runs (two at a time: 2 cores)."""
    argocd = cluster_tools().argocd
    workdir = tmp_path_factory.mktemp("argocd-health")
    (workdir / "argocd-cm.yaml").write_text(ARGOCD_CM)
    with ThreadPoolExecutor(max_workers=2) as pool:
        healths = list(pool.map(lambda case: _argocd_health(argocd, workdir, case), CASES))
    return {case.name: health for case, health in zip(CASES, healths, strict=True)}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_argo_cd_gives_the_health_the_case_says(case: Case, argocd_health: dict[str, str]) -> None:
    assert argocd_health[case.name] == case.argocd


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rollwright_gives_the_verdict_the_case_says(case: Case) -> None:
    status = interpret_rollout(case.rollout, digest=DIGEST, deadline_passed=case.deadline_passed)

    assert status.verdict is case.rollwright, status.reason
    if case.rollwright in (RolloutVerdict.FAILED, RolloutVerdict.UNJUDGEABLE):
        assert status.reason, "a hand-off that ends says why"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_difference_from_argo_cd_says_why_rollwright_wins(case: Case) -> None:
    assert bool(case.why) is not case.agrees, "a reason exactly where the verdicts differ"


def test_the_cases_cover_each_verdict_and_each_argo_cd_health() -> None:
    assert {case.rollwright for case in CASES} == set(RolloutVerdict)
    assert {case.argocd for case in CASES} == {"Healthy", "Progressing", "Suspended", "Degraded"}
