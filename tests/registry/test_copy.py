"""Promotion copies an image between launched registries byte for byte: same digest, and it resolves there."""

from __future__ import annotations

from pydantic import SecretStr

from devstack.images import build_image
from devstack.registry import RunningRegistry
from rollwright.registry import BasicCredentials, RegistryClient, RegistryClientConfig, copy_image, parse_reference
from tests.conftest import RegistryFactory
from tests.registry.token_gateway import run_token_gateway
from tests.support.oci_images import push_index, push_manifest


async def test_index_copy_between_registries_preserves_the_digest(registry_factory: RegistryFactory) -> None:
    async with registry_factory() as source, registry_factory() as central:
        pushed = await push_index(source.url, "team/api", "v1.2.3", seed="promote")
        async with RegistryClient() as client:
            result = await copy_image(
                client,
                parse_reference(f"{source.host}/team/api@{pushed}"),
                parse_reference(f"{central.host}/central/api"),
                tag="v1.2.3",
            )
            by_tag = await client.resolve(parse_reference(f"{central.host}/central/api:v1.2.3"))
            children = (await client.get_manifest(parse_reference(f"{central.host}/central/api@{pushed}"))).document
            for child in children.manifests:
                child_manifest = await client.get_manifest(
                    parse_reference(f"{central.host}/central/api@{child.digest}")
                )
                for blob in child_manifest.document.blobs():
                    assert await client.blob_exists(parse_reference(f"{central.host}/central/api"), blob.digest)
    assert by_tag.digest == pushed
    assert result.digest == pushed
    assert result.manifests == 3
    assert result.blobs_uploaded == 4
    assert result.blobs_mounted == 0


async def test_copying_again_uploads_nothing(registry_factory: RegistryFactory) -> None:
    async with registry_factory() as source, registry_factory() as central:
        pushed = await push_index(source.url, "team/api", "v1", seed="twice")
        async with RegistryClient() as client:
            args = (parse_reference(f"{source.host}/team/api@{pushed}"), parse_reference(f"{central.host}/c/api"))
            await copy_image(client, *args, tag="v1")
            again = await copy_image(client, *args, tag="v1")
    assert (again.blobs_uploaded, again.blobs_mounted, again.blobs_present) == (0, 0, 4)


async def test_same_registry_copy_mounts_blobs(registry: RunningRegistry) -> None:
    pushed = await push_index(registry.url, "team/api", "v1", seed="mount")
    async with RegistryClient() as client:
        result = await copy_image(
            client,
            parse_reference(f"{registry.host}/team/api@{pushed}"),
            parse_reference(f"{registry.host}/prod/api"),
            "v1",
        )
        assert (await client.resolve(parse_reference(f"{registry.host}/prod/api:v1"))).digest == pushed
    assert (result.blobs_mounted, result.blobs_uploaded) == (4, 0)


async def test_large_layers_go_up_in_chunks(registry_factory: RegistryFactory) -> None:
    image = build_image("big", extra_bytes=5000)
    async with registry_factory() as source, registry_factory() as central:
        pushed = await push_manifest(source.url, "team/big", "v1", image)
        async with RegistryClient(RegistryClientConfig(chunk_size=1024)) as client:
            result = await copy_image(
                client,
                parse_reference(f"{source.host}/team/big@{pushed}"),
                parse_reference(f"{central.host}/big"),
                "v1",
            )
            layer = (await client.get_manifest(parse_reference(f"{central.host}/big:v1"))).document.layers[0]
            body = await client.get_blob(parse_reference(f"{central.host}/big"), layer.digest)
    assert result.blobs_uploaded == 2
    assert len(body) == layer.size > 5000


async def test_copy_into_a_token_auth_registry(registry_factory: RegistryFactory) -> None:
    async with registry_factory() as source, registry_factory() as central:
        pushed = await push_index(source.url, "team/api", "v3", seed="token")
        async with run_token_gateway(central.url, "promoter", "pw") as gateway:
            config = RegistryClientConfig(
                credentials={gateway.host: BasicCredentials(username="promoter", password=SecretStr("pw"))}
            )
            async with RegistryClient(config) as client:
                await copy_image(
                    client,
                    parse_reference(f"{source.host}/team/api@{pushed}"),
                    parse_reference(f"{gateway.host}/c/api"),
                    "v3",
                )
                assert (await client.resolve(parse_reference(f"{gateway.host}/c/api:v3"))).digest == pushed
        assert ["repository:c/api:pull,push"] in gateway.tokens_issued
