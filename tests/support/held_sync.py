"""A sync the real Argo CD keeps running until the test ends it, as a long PreSync hook (a database migration) would.

The hook is a bare Pod: kwok keeps it Running (it completes only the pods of Jobs), so Argo CD waits for it and
the operation stays open. Meanwhile every other sync of the Application is refused with "another operation is
already in progress", which is what the client and the follower must handle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import yaml

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster
from rollwright.argocd import ArgoCDClient
from rollwright.argocd.models import OperationState
from rollwright.gitops.message import CommitIdentity
from tests.handoff.regions import Region

HOOK_FILE = "hold.yaml"
HOOK_WAIT = "waiting for completion of hook /Pod/hold"
# Long enough for the sync request to be accepted, short enough not to slow the test: the hand-off gives up
# waiting then, and the operation runs on.
HOLD_DEADLINE = 2.0
WAIT = 30.0
POLL = 0.1


def hook_pod(namespace: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "hold", "namespace": namespace, "annotations": {"argocd.argoproj.io/hook": "PreSync"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "hold", "image": "registry.local:5000/hold"}]},
        }
    )


async def _operation_state(region: Region) -> OperationState | None:
    async with ArgoCDClient(region.client_config) as client:
        return (await client.get_application(region.app)).status.operation_state


@dataclass
class HeldSync:
    region: Region
    cluster: LocalCluster
    revision: str
    released: bool = False

    async def release(self) -> None:
        """End the held operation (Argo CD's "Terminate") and wait until Argo CD says it has ended."""
        if self.released:
            return
        self.released = True
        async with self.cluster.argocd() as argo:
            # Argo CD's gateway refuses a DELETE without a JSON content type (415).
            answer = await argo.request("DELETE", f"/api/v1/applications/{self.region.app}/operation", json={})
            answer.raise_for_status()
        state = None
        for _ in range(int(WAIT / POLL)):
            state = await _operation_state(self.region)
            # Ended, or already followed by the next operation (a sync that waited its turn).
            if state is None or state.revision != self.revision or state.completed:
                return
            await asyncio.sleep(POLL)
        raise AssertionError(f"the held sync of {self.region.app} did not end within {WAIT:g} s: {state}")


async def _waiting_for_the_hook(region: Region) -> None:
    state = None
    for _ in range(int(WAIT / POLL)):
        state = await _operation_state(region)
        if state is not None and (state.phase, state.message) == ("Running", HOOK_WAIT):
            return
        await asyncio.sleep(POLL)
    raise AssertionError(f"the sync of {region.app} is not waiting for its hook: {state}")


@asynccontextmanager
async def sync_held(region: Region, cluster: LocalCluster) -> AsyncIterator[HeldSync]:
    """Hand off a revision whose sync does not end (the hand-off creates the region's Application, as Rollwright
    does, and gives up at its deadline); the operation runs until released, at the latest on exit."""
    identity = CommitIdentity(workflow_id="test-hold", target=region.target, purpose="deploy")
    manifests = {f"{region.target.gitops_path}/{HOOK_FILE}": hook_pod(region.namespace)}
    sha = (await region.repository.commit_region(identity, manifests)).sha
    result = await region.follow("hold", sha, deadline=HOLD_DEADLINE)
    held = HeldSync(region=region, cluster=cluster, revision=sha)
    try:
        assert result.outcome is HandoffOutcome.CANARY_FAILED, result
        assert result.reason is not None
        assert "did not finish syncing" in result.reason, result.reason
        await _waiting_for_the_hook(region)
        yield held
    finally:
        await held.release()
