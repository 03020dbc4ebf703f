"""The Argo CD client against the stand-in: each call, its errors, and that it sends each request once."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr

from argocd_standin.process import RunningStandin, run_standin
from devstack.ports import free_port
from rollwright.argocd import (
    ArgoCDAuthError,
    ArgoCDClient,
    ArgoCDClientConfig,
    ArgoCDNotFoundError,
    ArgoCDUnavailableError,
    ConnectRetries,
    OperationInProgressError,
)
from tests.argocd_standin.gitops_repo import GitOpsRepo, digest_for

APP = "api-staging-local-a"


def config(standin: RunningStandin, **overrides: object) -> ArgoCDClientConfig:
    base = ArgoCDClientConfig(server=standin.url, token=SecretStr(standin.token))
    return base.model_copy(update=overrides)


async def synced(client: ArgoCDClient, revision: str) -> None:
    for _ in range(200):
        app = await client.get_application(APP)
        state = app.status.operation_state
        if app.operation is None and state is not None and state.revision == revision and state.completed:
            assert state.phase == "Succeeded", state.message
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{APP} never synced {revision}")


async def test_get_sync_tree_and_resource(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    sha = gitops.deploy("staging", "local-a", "api", "v1")
    async with ArgoCDClient(config(standin)) as client:
        app = await client.get_application(APP, refresh="normal")
        assert app.spec.source is not None
        assert app.spec.source.path == "staging/local-a/api"
        assert app.status.sync is not None
        assert app.status.sync.status == "OutOfSync"

        requested = await client.sync(APP, sha, infos=[("rollwright", "wf-1")])
        assert requested.operation is not None
        assert requested.operation.sync is not None
        assert requested.operation.sync.revision == sha
        await synced(client, sha)

        app = await client.get_application(APP, refresh="normal")
        assert app.status.sync is not None
        assert (app.status.sync.status, app.status.sync.revision) == ("Synced", sha)
        tree = await client.resource_tree(APP)
        kinds = {(n.kind, n.name) for n in tree.nodes if not n.parent_refs}
        assert kinds == {("Rollout", "api"), ("Service", "api"), ("ConfigMap", "api-config")}
        assert any(n.kind == "ReplicaSet" and n.parent_refs[0].name == "api" for n in tree.nodes)

        live = await client.get_resource(APP, tree.managed("argoproj.io", "Rollout")[0].ref())
        assert live["kind"] == "Rollout"
        assert live["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + digest_for("v1"))
        assert "currentPodHash" in live["status"]


async def test_a_sync_during_another_operation_is_refused_at_once(gitops: GitOpsRepo) -> None:
    first = gitops.deploy("staging", "local-a", "api", "v1")
    second = gitops.deploy("staging", "local-a", "api", "v2")
    # At speed 2 a sync runs for half a second, so the second request surely meets the first one running.
    async with (
        run_standin(repo=gitops.bare, workdir=gitops.bare.parent, speed=2) as slow,
        ArgoCDClient(config(slow)) as client,
    ):
        await client.sync(APP, first)
        # Waiting for it is the follower's decision (tests/argocd/test_follow.py), not the client's.
        with pytest.raises(OperationInProgressError, match="another operation is already in progress"):
            await client.sync(APP, second)
        await synced(client, first)


async def test_actions_use_v2_and_fall_back_to_v1(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    sha1 = gitops.deploy("staging", "local-a", "api", "v1")
    async with ArgoCDClient(config(standin)) as client:
        await client.sync(APP, sha1)
        await synced(client, sha1)
        sha2 = gitops.deploy("staging", "local-a", "api", "v2", steps=[{"setWeight": 10}, {"pause": {}}])
        await client.sync(APP, sha2)
        await synced(client, sha2)
        ref = (await client.resource_tree(APP)).managed("argoproj.io", "Rollout")[0].ref()

        await standin.set_faults(actions_v2=False)  # an Argo CD older than 3.1
        await client.run_resource_action(APP, ref, "abort")
        live = await client.get_resource(APP, ref)
        assert live["status"]["abort"] is True

        await standin.set_faults(actions_v2=True)
        await client.run_resource_action(APP, ref, "retry")
        live = await client.get_resource(APP, ref)
        assert "abort" not in live["status"]


async def test_wrong_token_is_an_auth_error_at_once(standin: RunningStandin) -> None:
    async with ArgoCDClient(config(standin, token=SecretStr("not-the-token"))) as client:
        with pytest.raises(ArgoCDAuthError, match="rejected the token"):
            await client.get_application(APP)


async def test_unknown_application_is_not_found(standin: RunningStandin) -> None:
    async with ArgoCDClient(config(standin)) as client:
        with pytest.raises(ArgoCDNotFoundError, match="nope-staging-local-a"):
            await client.get_application("nope-staging-local-a")


async def test_a_server_error_is_unavailable_at_once_and_sent_once(gitops: GitOpsRepo, standin: RunningStandin) -> None:
    gitops.deploy("staging", "local-a", "api", "v1")
    await standin.set_faults(error_rate=1.0, seed=3)
    async with ArgoCDClient(config(standin)) as client:
        with pytest.raises(ArgoCDUnavailableError, match=r"Argo CD answered 50[23]") as caught:
            await client.get_application(APP)
        assert caught.value.status in (502, 503)
        assert (await standin.stats())["injected_faults"] == 1, "the client never resends"

        await standin.clear_faults()
        # What a retry by the caller (the follower, or Temporal) does: ask again.
        assert (await client.get_application(APP)).metadata.name == APP


async def test_unreachable_server_is_unavailable_after_the_connection_retries() -> None:
    cfg = ArgoCDClientConfig(server=f"http://127.0.0.1:{free_port()}", connect_retries=ConnectRetries(count=2))
    async with ArgoCDClient(cfg) as client:
        started = time.monotonic()
        with pytest.raises(ArgoCDUnavailableError, match=r"cannot reach Argo CD .*ConnectError"):
            await client.get_application(APP)
    # httpcore connected three times, waiting 0 s and then 0.5 s; the request itself was never sent.
    assert time.monotonic() - started >= 0.5
