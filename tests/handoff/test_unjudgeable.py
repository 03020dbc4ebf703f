"""A Rollout Rollwright cannot judge, on the real stack: a `workloadRef` Rollout, synced by the real Argo CD and run by
the real Argo Rollouts controller, ends the hand-off at its first look with a non-retryable error that says why,
instead of at the progress deadline with a vague reason."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from temporalio.exceptions import ApplicationError

from activities.contracts import ErrorType
from rollwright.argocd.follow import Stage
from rollwright.argocd.rollout_status import SUPPORTED_ROLLOUTS
from rollwright.domain.plan import CanaryStep
from rollwright.gitops.message import CommitIdentity
from rollwright.stacks import k8s_manifests as k8s
from tests.handoff.regions import IMAGE, Region, digest_of

STEPS = [CanaryStep(weight=25, pause="2s")]
# Far beyond what the sync takes even on a loaded machine (17 s seen): a hand-off that waited for it would not raise.
DEADLINE = 120.0
DEPLOYMENT_FILE = "deployment.yaml"


def workload_ref_manifests(region: Region, tag: str) -> dict[str, str]:
    """The Rollout Rollwright renders, with its pod template moved into a Deployment that the Rollout refers to."""
    rollout: dict[str, Any] = yaml.safe_load(
        k8s.render_rollout(region.target, IMAGE, digest_of(tag), 2, STEPS, 8080, None, region.namespace)
    )
    name = rollout["metadata"]["name"]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": region.namespace},
        # The Rollout runs the pods; the Deployment only holds their template.
        "spec": {"replicas": 0, "selector": rollout["spec"]["selector"], "template": rollout["spec"].pop("template")},
    }
    rollout["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    files = {k8s.ROLLOUT_FILE: yaml.safe_dump(rollout), DEPLOYMENT_FILE: yaml.safe_dump(deployment)}
    return {f"{region.target.gitops_path}/{file}": content for file, content in files.items()}


async def test_a_workload_ref_rollout_ends_the_hand_off_at_once_with_an_error_that_says_why(region: Region) -> None:
    identity = CommitIdentity(workflow_id="test-unjudgeable", target=region.target, purpose="deploy")
    manifests = workload_ref_manifests(region, "v1")
    commit = await region.repository.commit_region(identity, manifests, "v1", digest_of("v1"))

    with pytest.raises(ApplicationError) as raised:
        await region.follow("v1", commit.sha, deadline=DEADLINE)

    ended = time.monotonic()
    service = region.target.service
    assert raised.value.type == ErrorType.ROLLOUT_UNJUDGEABLE
    assert raised.value.non_retryable
    assert raised.value.message == (
        f"Rollout {service} has spec.workloadRef (Deployment {service}): Rollwright cannot see which image it runs; "
        f"{SUPPORTED_ROLLOUTS}"
    )
    # The first look at the live Rollout ended the hand-off: no second poll, no wait for the deadline. (A beat while a
    # call waits for Argo CD to answer repeats the last one, marked "waiting": not a look.)
    looks = [
        beat
        for beat in region.beats
        if beat.progress.stage is Stage.FOLLOWING and not (beat.progress.message or "").startswith("waiting")
    ]
    assert len(looks) == 1, [beat.progress for beat in looks]
    assert ended - looks[0].at < 1.0
