"""provision_region / preview_region / commit_manifests as a worker runs them, on the real pulumi CLI and
real git: the happy path into the GitOps remote (the rendered files passed by reference through the version
store), a guardrail refusal that commits nothing, a run killed with SIGKILL that the retry repairs, and a
cancelled run that stops in seconds and leaves the stack usable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import gitops as gitops_activities
from activities import provision as provision_activities
from activities.contracts import CommitInput, ErrorType, ProvisionInput, ProvisionResult
from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryStep
from rollwright.provisioning.locks import stack_locks
from rollwright.provisioning.process_tree import command_if_running, kill_tree
from rollwright.provisioning.settings import RunnerSettings
from rollwright.versionstore import VersionStore
from tests.provisioning.conftest import make_settings

DIGEST = "sha256:" + "3" * 64
SLOW_PROGRAM = "tests.provisioning.programs:slow_web_service"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("activities")


@pytest.fixture(scope="module")
def remote(root: Path) -> Path:
    path = root / "gitops.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def config(root: Path, remote: Path) -> RollwrightConfig:
    return RollwrightConfig.model_validate(
        {
            "services": [
                {
                    "name": "shop",
                    "image": "registry.local:5000/shop/api",
                    "environments": [
                        {"name": "staging", "waves": [["local-a", "kill-a", "cancel-a", "inline-a"]]},
                        {"name": "prod", "waves": [["us-east-1"]]},
                    ],
                }
            ],
            "gitops": {"repo": f"file://{remote}", "branch": "main"},
            "version_store": {"url": f"sqlite:///{root / 'versions.db'}"},
        }
    )


@pytest.fixture(scope="module")
def store(config: RollwrightConfig) -> Iterator[VersionStore]:
    with VersionStore(version_store_url(config.version_store)) as opened:
        yield opened


def rendered(store: VersionStore, result: ProvisionResult) -> dict[str, str]:
    """The files a provision left in the version store for the commit to read."""
    assert result.manifests == {}, "the files travel by reference, not in the deployment's history"
    assert result.manifests_ref == result.content_hash
    return store.manifests(result.manifests_ref)


@pytest.fixture(scope="module")
def settings(root: Path, pulumi_dir: Path) -> RunnerSettings:
    return make_settings(root, [pulumi_dir], cancel_grace_seconds=3.0)


@pytest.fixture(scope="module")
def acts(config: RollwrightConfig, settings: RunnerSettings, root: Path) -> dict[str, Any]:
    provision = provision_activities.create_activities(config, settings)
    commit = gitops_activities.create_activities(config, root / "clone")
    return {fn.__name__: fn for fn in [*provision, *commit]}


def request(region: str, environment: str = "staging", **settings: object) -> ProvisionInput:
    return ProvisionInput(
        target=RegionTarget(service="shop", environment=environment, region=region),
        image="registry.local:5000/shop/api",
        digest=DIGEST,
        tag="v1.0.0",
        canary_steps=[CanaryStep(weight=50, pause="10s")],
        pulumi_config=dict(settings),
        workflow_id="deploy-shop-v1.0.0",
    )


def remote_file(remote: Path, path: str) -> str:
    shown = subprocess.run(
        ["git", "--git-dir", str(remote), "show", f"main:{path}"], capture_output=True, text=True, check=True
    )
    return shown.stdout


def remote_files(remote: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True
    )
    return listing.stdout.split()


async def test_provision_commit_and_a_guardrail_refusal_that_commits_nothing(
    acts: dict[str, Any], remote: Path, store: VersionStore
) -> None:
    heartbeats: list[Any] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: heartbeats.extend(details)
    staging = request("local-a")

    result: ProvisionResult = await env.run(acts["provision_region"], staging)
    commit = await ActivityEnvironment().run(
        acts["commit_manifests"],
        CommitInput(
            target=staging.target,
            manifests_ref=result.manifests_ref,
            tag="v1.0.0",
            digest=DIGEST,
            workflow_id=staging.workflow_id,
        ),
    )

    files = rendered(store, result)
    assert sorted(files) == [f"staging/local-a/shop/{n}.yaml" for n in ("configmap", "rollout", "service")]
    assert result.changed_resources == 4
    assert commit.created
    assert sorted(path for path in remote_files(remote) if path.startswith("staging/local-a/")) == sorted(files)
    assert remote_file(remote, "staging/local-a/shop/rollout.yaml") == files["staging/local-a/shop/rollout.yaml"]
    assert any(isinstance(beat, dict) and beat.get("done") == 4 and beat.get("total") == 4 for beat in heartbeats)

    # prod pointed at staging's database: refused before `up`, so there is nothing to commit.
    bad = request("us-east-1", environment="prod", database_url=result.database_url)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(acts["provision_region"], bad)
    assert refused.value.type == ErrorType.GUARDRAIL_VIOLATION
    assert refused.value.non_retryable
    assert "prod resource" in refused.value.message
    assert "staging's resource" in refused.value.message
    assert not any(path.startswith("prod/") for path in remote_files(remote))

    preview = await ActivityEnvironment().run(acts["preview_region"], request("local-a", replicas=3))
    assert [(c.name, c.op) for c in preview.changes] == [("rollout", "update")]
    assert "`rollout`" in preview.markdown


async def _wait_for(path: Path, limit_seconds: float = 60.0) -> int:
    deadline = time.monotonic() + limit_seconds
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.1)
    return int(path.read_text())


async def test_runner_killed_mid_up_then_the_retry_converges(
    acts: dict[str, Any], settings: RunnerSettings, root: Path, store: VersionStore
) -> None:
    marker = root / "kill.marker"
    slow = request("kill-a", slow_marker=str(marker), slow_seconds=60)
    slow = slow.model_copy(update={"program": SLOW_PROGRAM})
    run = asyncio.create_task(ActivityEnvironment().run(acts["provision_region"], slow))
    provider_pid = await _wait_for(marker)

    # The whole runner (child, pulumi CLI, providers) dies at once, as in a worker crash.
    cli_pid = int(Path(f"/proc/{provider_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    kill_tree(os.getpgid(cli_pid))
    with pytest.raises(ApplicationError) as died:
        await run
    assert not died.value.non_retryable
    assert settings.backend_dir is not None
    assert stack_locks(settings.backend_dir, settings.project, slow.target.stack_name)  # left behind

    retried: ProvisionResult = await ActivityEnvironment().run(acts["provision_region"], request("kill-a"))

    files = rendered(store, retried)
    assert sorted(files) == [f"staging/kill-a/shop/{n}.yaml" for n in ("configmap", "rollout", "service")]
    assert f"@{DIGEST}" in files["staging/kill-a/shop/rollout.yaml"]
    assert not stack_locks(settings.backend_dir, settings.project, slow.target.stack_name)
    again = await ActivityEnvironment().run(acts["preview_region"], request("kill-a"))
    assert again.changes == []


async def test_cancelled_provision_stops_within_seconds_and_the_stack_stays_usable(
    acts: dict[str, Any], root: Path, store: VersionStore
) -> None:
    marker = root / "cancel.marker"
    slow = request("cancel-a", slow_marker=str(marker), slow_seconds=120).model_copy(update={"program": SLOW_PROGRAM})
    env = ActivityEnvironment()
    run = asyncio.create_task(env.run(acts["provision_region"], slow))
    provider_pid = await _wait_for(marker)

    # While it runs, a second provision of the same stack is told to come back later.
    with pytest.raises(ApplicationError) as busy:
        await ActivityEnvironment().run(acts["provision_region"], request("cancel-a"))
    assert busy.value.type == provision_activities.STACK_BUSY
    assert not busy.value.non_retryable

    started = time.monotonic()
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert time.monotonic() - started < 10
    assert command_if_running(provider_pid) is None

    result: ProvisionResult = await ActivityEnvironment().run(acts["provision_region"], request("cancel-a"))
    assert "staging/cancel-a/shop/rollout.yaml" in rendered(store, result)


async def test_a_commit_takes_inline_files_from_an_older_history_and_refuses_a_reference_the_store_lacks(
    acts: dict[str, Any], remote: Path
) -> None:
    target = RegionTarget(service="shop", environment="staging", region="inline-a")
    inline = {f"{target.gitops_path}/rollout.yaml": f"image: {DIGEST}\n"}

    commit = await ActivityEnvironment().run(
        acts["commit_manifests"],
        CommitInput(target=target, manifests=inline, tag="v1.0.0", digest=DIGEST, workflow_id="deploy-old"),
    )
    assert commit.created
    assert remote_file(remote, f"{target.gitops_path}/rollout.yaml") == f"image: {DIGEST}\n"

    missing = "0" * 64
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(
            acts["commit_manifests"],
            CommitInput(target=target, manifests_ref=missing, tag="v1.0.1", digest=DIGEST, workflow_id="deploy-new"),
        )
    assert refused.value.non_retryable
    assert missing in refused.value.message
    assert "provision the region again" in refused.value.message
    assert remote_file(remote, f"{target.gitops_path}/rollout.yaml") == f"image: {DIGEST}\n"
