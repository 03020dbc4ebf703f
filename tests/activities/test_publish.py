"""inspect_candidate and publish_image against the launched registry and a real version store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import ErrorType, InspectCandidateInput, PublishInput
from activities.publish import create_activities
from devstack.ports import free_port
from devstack.registry import RunningRegistry
from rollwright.config import RollwrightConfig, parse_config
from rollwright.domain.source import SourceEvent
from rollwright.registry import RegistryClient, parse_reference
from rollwright.versionstore import VersionStore
from tests.conftest import RegistryFactory
from tests.support.oci_images import push_image, push_index

POLICY = r"v\d+\.\d+\.\d+"
SOURCE = SourceEvent(source="distribution", delivery_id="evt-1")


def _config(image: str, store_url: str, **registry: Any) -> RollwrightConfig:
    return parse_config(
        {
            "services": [
                {"name": "api", "image": image, "tags": POLICY, "environments": [{"name": "prod", "waves": [["eu"]]}]}
            ],
            "gitops": {"repo": "/nowhere"},
            "version_store": {"url": store_url},
            "registry": registry,
        }
    )


class Publish:
    """The two activities as the worker would register them, run in an ActivityEnvironment."""

    def __init__(self, config: RollwrightConfig) -> None:
        self.inspect, self.publish = create_activities(config)
        self.env = ActivityEnvironment()

    async def inspect_candidate(self, request: InspectCandidateInput) -> Any:
        return await self.env.run(self.inspect, request)

    async def publish_image(self, request: PublishInput) -> Any:
        return await self.env.run(self.publish, request)


def _publish_input(image: str, tag: str, digest: str, **extra: Any) -> PublishInput:
    return PublishInput(
        service="api",
        image=image,
        tag=tag,
        digest=digest,
        tag_policy=POLICY,
        source=SOURCE,
        workflow_id="wf-1",
        **extra,
    )


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/versions.db"


async def test_inspect_resolves_the_tag_and_checks_policy_and_bad_marks(
    registry: RunningRegistry, store_url: str
) -> None:
    image = f"{registry.host}/shop/api"
    pushed = await push_index(registry.url, "shop/api", "v1.0.0", seed="one")
    await push_image(registry.url, "shop/api", "nightly", seed="two")
    activities = Publish(_config(image, store_url))
    stale_hint = "sha256:" + "0" * 64

    info = await activities.inspect_candidate(
        InspectCandidateInput(service="api", image=image, tag="v1.0.0", digest_hint=stale_hint)
    )
    assert (info.digest, info.tag_allowed, info.marked_bad, info.tag_policy) == (pushed, True, False, POLICY)
    assert info.pushed_at is not None

    nightly = await activities.inspect_candidate(InspectCandidateInput(service="api", image=image, tag="nightly"))
    assert not nightly.tag_allowed

    with VersionStore(store_url) as store:
        store.mark_bad(service="api", digest=pushed, reason="canary failed", actor="rollwright")
    again = await activities.inspect_candidate(InspectCandidateInput(service="api", image=image, tag="v1.0.0"))
    assert (again.marked_bad, again.bad_reason) == (True, "canary failed")


async def test_inspect_of_a_missing_tag_is_image_not_found(registry: RunningRegistry, store_url: str) -> None:
    image = f"{registry.host}/shop/api"
    with pytest.raises(ApplicationError) as failure:
        await Publish(_config(image, store_url)).inspect_candidate(
            InspectCandidateInput(service="api", image=image, tag="v9.9.9")
        )
    assert (failure.value.type, failure.value.non_retryable) == (ErrorType.IMAGE_NOT_FOUND, True)


async def test_wrong_registry_password_is_a_non_retryable_auth_failure(
    registry_factory: RegistryFactory, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_PASSWORD", "not-it")
    async with registry_factory(htpasswd=("ci", "right")) as registry:
        image = f"{registry.host}/shop/api"
        await push_image(registry.url, "shop/api", "v1.0.0", seed="auth", auth=("ci", "right"))
        credentials = [{"host": registry.host, "username": "ci", "password": {"env": "REGISTRY_PASSWORD"}}]
        activities = Publish(_config(image, store_url, credentials=credentials))
        with pytest.raises(ApplicationError) as failure:
            await activities.inspect_candidate(InspectCandidateInput(service="api", image=image, tag="v1.0.0"))
        assert (failure.value.type, failure.value.non_retryable) == (ErrorType.REGISTRY_AUTH, True)
        assert "not-it" not in str(failure.value)
        monkeypatch.setenv("REGISTRY_PASSWORD", "right")
        info = await activities.inspect_candidate(InspectCandidateInput(service="api", image=image, tag="v1.0.0"))
        assert info.tag == "v1.0.0"


async def test_an_unreachable_registry_is_retryable(store_url: str) -> None:
    image = f"127.0.0.1:{free_port()}/shop/api"
    with pytest.raises(ApplicationError) as failure:
        await Publish(_config(image, store_url)).inspect_candidate(
            InspectCandidateInput(service="api", image=image, tag="v1.0.0")
        )
    assert failure.value.type == "RegistryUnavailableError"
    assert not failure.value.non_retryable


async def test_publishing_twice_leaves_one_version(registry: RunningRegistry, store_url: str) -> None:
    image = f"{registry.host}/shop/api"
    pushed = await push_image(registry.url, "shop/api", "v1.2.3", seed="pub")
    activities = Publish(_config(image, store_url))
    first = await activities.publish_image(_publish_input(image, "v1.2.3", pushed))
    second = await activities.publish_image(_publish_input(image, "v1.2.3", pushed))
    assert first == second
    assert (first.digest, first.image, first.promoted) == (pushed, image, False)
    with VersionStore(store_url) as store:
        versions = store.versions("api")
    assert [(v.tag, v.digest, v.source_event_id, v.workflow_id) for v in versions] == [
        ("v1.2.3", pushed, "evt-1", "wf-1")
    ]


async def test_publish_promotes_into_the_central_registry(registry_factory: RegistryFactory, store_url: str) -> None:
    async with registry_factory() as source, registry_factory() as central:
        image = f"{source.host}/shop/api"
        pushed = await push_index(source.url, "shop/api", "v2.0.0", seed="central")
        central_image = f"{central.host}/prod/api"
        result = await Publish(_config(image, store_url)).publish_image(
            _publish_input(image, "v2.0.0", pushed, promote_to=central_image)
        )
        assert (result.image, result.promoted, result.digest) == (central_image, True, pushed)
        async with RegistryClient() as client:
            assert (await client.resolve(parse_reference(f"{central_image}:v2.0.0"))).digest == pushed
    with VersionStore(store_url) as store:
        assert [v.image for v in store.versions("api")] == [central_image]


async def test_publish_refuses_a_moved_tag_and_a_tag_outside_the_policy(
    registry: RunningRegistry, store_url: str
) -> None:
    image = f"{registry.host}/shop/api"
    old = await push_image(registry.url, "shop/api", "v1.0.0", seed="old")
    await push_image(registry.url, "shop/api", "v1.0.0", seed="new")
    await push_image(registry.url, "shop/api", "latest", seed="new")
    activities = Publish(_config(image, store_url))
    with pytest.raises(ApplicationError, match="the tag moved") as moved:
        await activities.publish_image(_publish_input(image, "v1.0.0", old))
    assert (moved.value.type, moved.value.non_retryable) == (ErrorType.DIGEST_MISMATCH, True)
    with pytest.raises(ApplicationError, match="does not match the tag policy") as policy:
        await activities.publish_image(_publish_input(image, "latest", old))
    assert f"`{POLICY}`" in str(policy.value)
    assert (policy.value.type, policy.value.non_retryable) == (ErrorType.TAG_POLICY_VIOLATION, True)
    with VersionStore(store_url) as store:
        assert store.versions("api") == []
