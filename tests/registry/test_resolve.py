"""Resolving tags against the launched registry gives the digest the registry itself reported on push."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from devstack.ports import free_port
from devstack.registry import RunningRegistry
from rollwright.registry import (
    DigestMismatchError,
    NotFoundError,
    RegistryClient,
    RegistryClientConfig,
    RegistryUnavailableError,
    RetryPolicy,
    parse_reference,
)
from rollwright.registry.manifest import OCI_INDEX, OCI_MANIFEST
from tests.registry.faults import RewritingTransport, copy_response
from tests.support.oci_images import push_image, push_index

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)


async def test_tag_resolves_to_the_pushed_digest(registry: RunningRegistry) -> None:
    created = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    pushed = await push_image(registry.url, "shop/api", "v1.0.0", seed="one", created=created)
    await push_image(registry.url, "shop/api", "v1.0.1", seed="two")
    ref = parse_reference(f"{registry.host}/shop/api:v1.0.0")
    async with RegistryClient() as client:
        resolved = await client.resolve(ref)
        assert resolved.digest == pushed
        assert resolved.media_type == OCI_MANIFEST
        assert not resolved.is_index
        assert await client.pushed_at(ref) == created
        manifest = await client.get_manifest(ref.with_digest(pushed))
        assert manifest.digest == pushed
        assert manifest.document.config is not None


async def test_multi_platform_tag_resolves_to_the_index_digest(registry: RunningRegistry) -> None:
    pushed = await push_index(registry.url, "shop/api", "v2.0.0", seed="multi")
    async with RegistryClient() as client:
        resolved = await client.resolve(parse_reference(f"{registry.host}/shop/api:v2.0.0"))
        manifest = await client.get_manifest(parse_reference(f"{registry.host}/shop/api@{pushed}"))
    assert resolved.digest == pushed
    assert resolved.media_type == OCI_INDEX
    assert [d.platform.architecture for d in manifest.document.manifests if d.platform] == ["amd64", "arm64"]


async def test_a_retag_moves_the_resolved_digest(registry: RunningRegistry) -> None:
    await push_image(registry.url, "shop/api", "latest", seed="old")
    newer = await push_image(registry.url, "shop/api", "latest", seed="new")
    async with RegistryClient() as client:
        assert (await client.resolve(parse_reference(f"{registry.host}/shop/api:latest"))).digest == newer


async def test_missing_tag_and_repository_are_not_found(registry: RunningRegistry) -> None:
    await push_image(registry.url, "shop/api", "v1", seed="x")
    async with RegistryClient() as client:
        with pytest.raises(NotFoundError, match=r"shop/api:v9 not found"):
            await client.resolve(parse_reference(f"{registry.host}/shop/api:v9"))
        with pytest.raises(NotFoundError, match=r"shop/nothing:v1 not found"):
            await client.resolve(parse_reference(f"{registry.host}/shop/nothing:v1"))


async def test_falls_back_to_get_when_head_names_no_digest(registry: RunningRegistry) -> None:
    pushed = await push_image(registry.url, "shop/api", "v1", seed="fallback")

    def strip_head_digest(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.method == "HEAD":
            return copy_response(response, drop_headers=("docker-content-digest",))
        return None

    transport = RewritingTransport(strip_head_digest)
    async with RegistryClient(transport=transport) as client:
        resolved = await client.resolve(parse_reference(f"{registry.host}/shop/api:v1"))
    assert resolved.digest == pushed
    assert [m for m, _, _ in transport.seen] == ["HEAD", "GET"]


async def test_a_body_that_does_not_match_its_digest_is_refused(registry: RunningRegistry) -> None:
    await push_image(registry.url, "shop/api", "v1", seed="tamper")

    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.method == "GET" and "/manifests/" in request.url.path:
            return copy_response(
                response, content=response.content.replace(b'"schemaVersion":2', b'"schemaVersion": 2')
            )
        return None

    async with RegistryClient(transport=RewritingTransport(tamper)) as client:
        with pytest.raises(DigestMismatchError, match="content hashes to"):
            await client.get_manifest(parse_reference(f"{registry.host}/shop/api:v1"))


async def test_transient_server_errors_are_retried(registry: RunningRegistry) -> None:
    pushed = await push_image(registry.url, "shop/api", "v1", seed="flaky")
    failures = iter([True, True])

    def fail_twice(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return copy_response(response, status=503) if next(failures, False) else None

    transport = RewritingTransport(fail_twice)
    config = RegistryClientConfig(retry=FAST_RETRY)
    async with RegistryClient(config, transport=transport) as client:
        assert (await client.resolve(parse_reference(f"{registry.host}/shop/api:v1"))).digest == pushed
    assert [status for _, _, status in transport.seen] == [503, 503, 200]


async def test_persistent_server_errors_exhaust_the_retry_budget(registry: RunningRegistry) -> None:
    await push_image(registry.url, "shop/api", "v1", seed="down")

    def always_fail(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return copy_response(response, status=502)

    transport = RewritingTransport(always_fail)
    async with RegistryClient(RegistryClientConfig(retry=FAST_RETRY), transport=transport) as client:
        with pytest.raises(RegistryUnavailableError, match="after 3 attempt"):
            await client.resolve(parse_reference(f"{registry.host}/shop/api:v1"))
    assert len(transport.seen) == 3


async def test_nothing_listening_is_unavailable_not_a_hang() -> None:
    async with RegistryClient(RegistryClientConfig(retry=FAST_RETRY)) as client:
        with pytest.raises(RegistryUnavailableError, match="ConnectError"):
            await client.resolve(parse_reference(f"127.0.0.1:{free_port()}/shop/api:v1"))
