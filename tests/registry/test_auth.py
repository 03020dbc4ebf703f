"""Credentials against real auth: htpasswd basic auth on the launched registry, and the bearer-token flow."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from devstack.registry import RunningRegistry
from rollwright.registry import (
    BasicCredentials,
    RegistryAuthError,
    RegistryClient,
    RegistryClientConfig,
    parse_reference,
)
from tests.conftest import RegistryFactory
from tests.registry.faults import RewritingTransport, copy_response
from tests.registry.token_gateway import run_token_gateway
from tests.support.oci_images import push_image

USER, PASSWORD = "ci", "s3cret-pass"


def _config(host: str, username: str, password: str) -> RegistryClientConfig:
    return RegistryClientConfig(credentials={host: BasicCredentials(username=username, password=SecretStr(password))})


async def test_basic_credentials_resolve_on_an_htpasswd_registry(registry_factory: RegistryFactory) -> None:
    async with registry_factory(htpasswd=(USER, PASSWORD)) as registry:
        pushed = await push_image(registry.url, "shop/api", "v1", seed="auth", auth=(USER, PASSWORD))
        async with RegistryClient(_config(registry.host, USER, PASSWORD)) as client:
            assert (await client.resolve(parse_reference(f"{registry.host}/shop/api:v1"))).digest == pushed


async def test_wrong_or_missing_credentials_are_a_clear_401(registry_factory: RegistryFactory) -> None:
    async with registry_factory(htpasswd=(USER, PASSWORD)) as registry:
        await push_image(registry.url, "shop/api", "v1", seed="auth", auth=(USER, PASSWORD))
        ref = parse_reference(f"{registry.host}/shop/api:v1")
        async with RegistryClient(_config(registry.host, USER, "wrong")) as client:
            with pytest.raises(RegistryAuthError, match=r"rejected the credentials of user 'ci'") as wrong:
                await client.resolve(ref)
        assert wrong.value.status == 401
        assert "wrong" not in str(wrong.value)
        async with RegistryClient() as client:
            with pytest.raises(RegistryAuthError, match="requires credentials and none are configured"):
                await client.resolve(ref)


async def test_bearer_challenge_is_answered_at_the_realm(registry: RunningRegistry) -> None:
    pushed = await push_image(registry.url, "shop/api", "v1", seed="bearer")
    async with run_token_gateway(registry.url, USER, PASSWORD) as gateway:
        async with RegistryClient(_config(gateway.host, USER, PASSWORD)) as client:
            ref = parse_reference(f"{gateway.host}/shop/api:v1")
            assert (await client.resolve(ref)).digest == pushed
            # The token is cached for the scope: a second read asks the realm for nothing new.
            assert (await client.get_manifest(ref)).digest == pushed
        assert gateway.tokens_issued == [["repository:shop/api:pull"]]
        async with RegistryClient(_config(gateway.host, USER, "nope")) as client:
            with pytest.raises(RegistryAuthError, match=r"token service .* refused user 'ci'"):
                await client.resolve(parse_reference(f"{gateway.host}/shop/api:v1"))


async def test_forbidden_is_a_clear_auth_error(registry: RunningRegistry) -> None:
    await push_image(registry.url, "shop/api", "v1", seed="forbidden")

    def forbid(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return copy_response(response, status=403)

    async with RegistryClient(transport=RewritingTransport(forbid)) as client:
        with pytest.raises(RegistryAuthError, match=r"denied anonymous access .* \(HTTP 403\)") as denied:
            await client.resolve(parse_reference(f"{registry.host}/shop/api:v1"))
    assert denied.value.status == 403
