"""Resolving tags against the launched registry gives the digest the registry itself reported on push."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from devstack.ports import free_port
from devstack.registry import RunningRegistry
from rollwright.registry import (
    ConnectRetries,
    DigestMismatchError,
    NotFoundError,
    RegistryClient,
    RegistryClientConfig,
    RegistryUnavailableError,
    parse_reference,
)
from rollwright.registry.manifest import OCI_INDEX, OCI_MANIFEST
from tests.registry.faults import RewritingTransport, copy_response, listening_late
from tests.support.oci_images import push_image, push_index


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


@pytest.mark.parametrize("status", [503, 502, 429])
async def test_a_transient_answer_is_unavailable_at_once_and_sent_once(registry: RunningRegistry, status: int) -> None:
    pushed = await push_image(registry.url, "shop/api", "v1", seed="flaky")
    failures = iter([True])

    def fail_once(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return copy_response(response, status=status) if next(failures, False) else None

    transport = RewritingTransport(fail_once)
    ref = parse_reference(f"{registry.host}/shop/api:v1")
    async with RegistryClient(transport=transport) as client:
        with pytest.raises(RegistryUnavailableError, match=rf"HEAD .*/manifests/v1: HTTP {status}"):
            await client.resolve(ref)
        assert [s for _, _, s in transport.seen] == [status], "the client itself never resends"
        # What Temporal's retry of the activity does: ask again, later.
        assert (await client.resolve(ref)).digest == pushed
    assert [s for _, _, s in transport.seen] == [status, 200]


async def test_nothing_listening_is_unavailable_not_a_hang() -> None:
    async with RegistryClient(RegistryClientConfig(connect_retries=ConnectRetries(count=0))) as client:
        with pytest.raises(RegistryUnavailableError, match="ConnectError"):
            await client.resolve(parse_reference(f"127.0.0.1:{free_port()}/shop/api:v1"))


async def test_a_refused_connection_is_retried_at_connection_level(registry: RunningRegistry) -> None:
    pushed = await push_image(registry.url, "shop/api", "v1", seed="restart")
    upstream = int(registry.host.rsplit(":", 1)[1])
    # httpcore connects again after 0 s, 0.5 s and 1 s: the third or fourth try meets the relay listening.
    config = RegistryClientConfig(connect_retries=ConnectRetries(count=3))
    async with listening_late(upstream, delay=0.2) as port, RegistryClient(config) as client:
        started = time.monotonic()
        resolved = await client.resolve(parse_reference(f"127.0.0.1:{port}/shop/api:v1"))
        waited = time.monotonic() - started
    assert resolved.digest == pushed
    assert waited >= 0.2, "it connected only once the relay listened"


async def test_without_connection_retries_a_late_registry_is_unavailable(registry: RunningRegistry) -> None:
    upstream = int(registry.host.rsplit(":", 1)[1])
    config = RegistryClientConfig(connect_retries=ConnectRetries(count=0))
    async with listening_late(upstream, delay=0.2) as port, RegistryClient(config) as client:
        with pytest.raises(RegistryUnavailableError, match="ConnectError"):
            await client.resolve(parse_reference(f"127.0.0.1:{port}/shop/api:v1"))
