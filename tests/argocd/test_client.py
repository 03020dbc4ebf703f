"""The Argo CD client against the real Argo CD 3.2: each call on a real Application, its errors, and that it sends
each request once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster
from devstack.ports import free_port
from rollwright.argocd import (
    ArgoCDAuthError,
    ArgoCDClient,
    ArgoCDClientConfig,
    ArgoCDPermissionError,
    ArgoCDUnavailableError,
    ConnectRetries,
    OperationInProgressError,
    ResourceRef,
)
from rollwright.argocd.follow import ROLLOUT_GROUP, ROLLOUT_KIND
from rollwright.domain.plan import CanaryStep
from tests.handoff.regions import Region, digest_of
from tests.support.held_sync import sync_held

WAIT = 60.0
POLL = 0.2
# No pause: straight on. (Not `[]`: Argo Rollouts drops an empty `steps`, so Argo CD would compare OutOfSync.)
UNPAUSED = [CanaryStep(weight=50)]
# Paused until an action moves it on.
PAUSED = [CanaryStep(weight=25, pause="10m"), CanaryStep(weight=75)]


class Interposed(httpx.AsyncBaseTransport):
    """Between the client and the real argocd-server: forwards every request, except those a test has it answer
    itself. Only for what the real server cannot be made to say on demand: a 503 from whatever stands in front of
    it (an ingress while argocd-server restarts), and the 404 of a server older than 3.1, which has no actions/v2.
    """

    def __init__(self) -> None:
        self._upstream = httpx.AsyncHTTPTransport()
        self.unavailable = 0  # how many of the next requests get a 503
        self.without_actions_v2 = False
        self.seen: list[tuple[str, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.unavailable:
            self.unavailable -= 1
            response = httpx.Response(503, text="no healthy upstream", request=request)
        elif self.without_actions_v2 and request.url.path.endswith("/resource/actions/v2"):
            # As Argo CD's gateway answers a route it does not have (3.2 answers an unknown path so too).
            response = httpx.Response(404, text="Not Found", request=request)
        else:
            response = await self._upstream.handle_async_request(request)
        self.seen.append((request.method, request.url.path, response.status_code))
        return response

    async def aclose(self) -> None:
        await self._upstream.aclose()


def interposed_client(config: ArgoCDClientConfig, transport: Interposed) -> ArgoCDClient:
    assert config.token is not None
    headers = {"Authorization": f"Bearer {config.token.get_secret_value()}", "Accept": "application/json"}
    return ArgoCDClient(config, http=httpx.AsyncClient(base_url=config.server, headers=headers, transport=transport))


async def synced(client: ArgoCDClient, app: str, revision: str) -> None:
    """Once the sync to `revision` has succeeded and Argo CD's comparison (which lags the operation) says so too."""
    for _ in range(int(WAIT / POLL)):
        application = await client.get_application(app)
        state, compared = application.status.operation_state, application.status.sync
        if application.operation is None and state is not None and state.revision == revision and state.completed:
            assert state.phase == "Succeeded", state.message
            if compared is not None and (compared.status, compared.revision) == ("Synced", revision):
                return
        await asyncio.sleep(POLL)
    raise AssertionError(f"{app} never synced {revision}")


async def live_rollout(
    client: ArgoCDClient, app: str, until: Callable[[dict[str, Any]], bool], what: str
) -> tuple[ResourceRef, dict[str, Any]]:
    """The app's Rollout as Argo CD shows it, once `until` holds for it (Argo CD's cache follows the cluster)."""
    live: dict[str, Any] = {}
    for _ in range(int(WAIT / POLL)):
        rollouts = (await client.resource_tree(app)).managed(ROLLOUT_GROUP, ROLLOUT_KIND)
        if rollouts:
            live = await client.get_resource(app, rollouts[0].ref())
            if until(live):
                return rollouts[0].ref(), live
        await asyncio.sleep(POLL)
    raise AssertionError(f"the Rollout of {app} never {what}; last seen: {live.get('status')}")


def status(live: dict[str, Any]) -> dict[str, Any]:
    return live.get("status") or {}


async def test_get_sync_tree_and_resource_of_a_real_application(region: Region) -> None:
    first = await region.hand_off("v1", UNPAUSED)  # Rollwright creates the Application and syncs its first version
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    sha = await region.commit("v2", UNPAUSED)
    async with ArgoCDClient(region.client_config) as client:
        app = await client.get_application(region.app, refresh="normal")
        assert app.spec.source is not None
        assert app.spec.source.path == region.target.gitops_path
        assert app.status.sync is not None
        assert (app.status.sync.status, app.status.sync.revision) == ("OutOfSync", sha)

        requested = await client.sync(region.app, sha, infos=[("rollwright", "wf-1")])
        assert requested.operation is not None
        assert requested.operation.sync is not None
        assert requested.operation.sync.revision == sha
        await synced(client, region.app, sha)

        tree = await client.resource_tree(region.app)
        service = region.target.service
        tops = {(n.kind, n.name) for n in tree.nodes if not n.parent_refs}
        assert tops == {("Rollout", service), ("Service", service), ("ConfigMap", f"{service}-config")}, tops
        assert any(n.kind == "ReplicaSet" and n.parent_refs[0].name == service for n in tree.nodes)

        _, live = await live_rollout(client, region.app, lambda live: digest_of("v2") in str(live["spec"]), "ran v2")
        assert live["kind"] == "Rollout"
        assert live["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + digest_of("v2"))
        assert "currentPodHash" in status(live)


async def test_a_sync_during_another_operation_is_refused_at_once(region: Region, local_cluster: LocalCluster) -> None:
    async with sync_held(region, local_cluster), ArgoCDClient(region.client_config) as client:
        sha = await region.commit("v1", UNPAUSED)
        started = time.monotonic()
        # Waiting for it is the follower's decision (tests/argocd/test_follow.py), not the client's.
        with pytest.raises(OperationInProgressError, match="another operation is already in progress"):
            await client.sync(region.app, sha)
        assert time.monotonic() - started < 5


async def test_actions_run_through_v2_and_fall_back_to_v1_on_a_server_without_it(region: Region) -> None:
    first = await region.hand_off("v1", UNPAUSED)
    assert first.outcome is HandoffOutcome.HEALTHY, first.reason
    sha = await region.commit("v2", PAUSED)
    transport = Interposed()
    async with interposed_client(region.client_config, transport) as client:
        await client.sync(region.app, sha)
        await synced(client, region.app, sha)
        ref, _ = await live_rollout(
            client,
            region.app,
            lambda live: bool(status(live).get("pauseConditions")) and digest_of("v2") in str(live["spec"]),
            "paused in its canary",
        )
        actions = f"/api/v1/applications/{region.app}/resource/actions"

        transport.without_actions_v2 = True  # an Argo CD older than 3.1
        transport.seen.clear()
        await client.run_resource_action(region.app, ref, "abort")
        assert [(method, path, code) for method, path, code in transport.seen if method == "POST"] == [
            ("POST", f"{actions}/v2", 404),
            ("POST", actions, 200),
        ]
        await live_rollout(client, region.app, lambda live: status(live).get("abort") is True, "was aborted")

        transport.without_actions_v2 = False
        transport.seen.clear()
        await client.run_resource_action(region.app, ref, "retry")
        assert transport.seen == [("POST", f"{actions}/v2", 200)]
        await live_rollout(client, region.app, lambda live: "abort" not in status(live), "was retried")


async def test_wrong_token_is_an_auth_error_at_once(local_cluster: LocalCluster) -> None:
    config = ArgoCDClientConfig(server=local_cluster.argocd_url, token=SecretStr("not-the-token"))
    async with ArgoCDClient(config) as client:
        with pytest.raises(ArgoCDAuthError, match="rejected the token") as caught:
            await client.get_application("api-staging-local-a")
    assert caught.value.status == 401


async def test_an_unknown_application_is_refused_as_argo_cd_hides_it(local_cluster: LocalCluster) -> None:
    # Argo CD answers 403, not 404, for an application that does not exist (asked without its project), so that
    # nobody learns which applications exist; the error says that this may be why.
    name = f"nope-{uuid.uuid4().hex[:6]}"
    config = ArgoCDClientConfig(server=local_cluster.argocd_url, token=SecretStr(local_cluster.argocd_token))
    async with ArgoCDClient(config) as client:
        with pytest.raises(ArgoCDPermissionError, match=f"get application {name}: permission denied") as caught:
            await client.get_application(name)
    assert caught.value.status == 403
    assert "the application does not exist" in caught.value.message


async def test_a_server_error_is_unavailable_at_once_and_sent_once(local_cluster: LocalCluster) -> None:
    config = ArgoCDClientConfig(server=local_cluster.argocd_url, token=SecretStr(local_cluster.argocd_token))
    transport = Interposed()
    transport.unavailable = 1
    async with interposed_client(config, transport) as client:
        with pytest.raises(ArgoCDUnavailableError, match="Argo CD answered 503") as caught:
            await client.get_application("api-staging-local-a")
        assert caught.value.status == 503
        assert len(transport.seen) == 1, "the client never resends"

        # What a retry by the caller (the follower, or Temporal) does: ask again, and get the real server's answer.
        with pytest.raises(ArgoCDPermissionError):
            await client.get_application("api-staging-local-a")
    assert [code for _, _, code in transport.seen] == [503, 403]


async def test_unreachable_server_is_unavailable_after_the_connection_retries() -> None:
    cfg = ArgoCDClientConfig(server=f"http://127.0.0.1:{free_port()}", connect_retries=ConnectRetries(count=2))
    async with ArgoCDClient(cfg) as client:
        started = time.monotonic()
        with pytest.raises(ArgoCDUnavailableError, match=r"cannot reach Argo CD .*ConnectError"):
            await client.get_application("api-staging-local-a")
    # httpcore connected three times, waiting 0 s and then 0.5 s; the request itself was never sent.
    assert time.monotonic() - started >= 0.5
