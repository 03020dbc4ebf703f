"""Image references as people write them parse into host, repository, tag and digest; bad ones are named."""

from __future__ import annotations

import pytest

from rollwright.registry import InvalidReferenceError, parse_reference, parse_repository
from rollwright.registry.config import RegistryClientConfig

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "host", "repository", "tag", "digest"),
    [
        ("127.0.0.1:5000/shop/api:v1.2.3", "127.0.0.1:5000", "shop/api", "v1.2.3", None),
        ("registry.local:5000/shop/checkout-api", "registry.local:5000", "shop/checkout-api", None, None),
        (f"ghcr.io/acme/api@{DIGEST}", "ghcr.io", "acme/api", None, DIGEST),
        (f"ghcr.io/acme/api:v2@{DIGEST}", "ghcr.io", "acme/api", "v2", DIGEST),
        ("localhost/api:latest", "localhost", "api", "latest", None),
        ("nginx", "docker.io", "library/nginx", None, None),
        ("acme/api:1.0", "docker.io", "acme/api", "1.0", None),
        ("[::1]:5000/a/b:c", "[::1]:5000", "a/b", "c", None),
    ],
)
def test_parses_references(text: str, host: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repository, tag, digest)


def test_reference_prefers_digest_and_defaults_to_latest() -> None:
    assert parse_reference(f"h.io/a:v1@{DIGEST}").reference == DIGEST
    assert parse_reference("h.io/a").reference == "latest"
    assert parse_reference("nginx").api_host == "registry-1.docker.io"
    assert str(parse_reference("h.io:5000/a/b:v1").with_digest(DIGEST)) == f"h.io:5000/a/b:v1@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("h.io/Shop/api:v1", "'Shop'"),
        ("h.io/shop/api:-bad", "'-bad' is not a valid tag"),
        ("h.io/shop/api@sha256:short", "not a digest"),
        ("h.io/shop//api", "path component ''"),
        ("bad_host.io:99x/a", "not a valid registry host"),
    ],
)
def test_malformed_references_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidReferenceError, match=problem):
        parse_reference(text)


def test_repository_only_rejects_tags() -> None:
    with pytest.raises(InvalidReferenceError, match="expected a repository only"):
        parse_repository("h.io/a:v1")


@pytest.mark.parametrize(
    ("host", "scheme"),
    [("127.0.0.1:5000", "http"), ("localhost:1234", "http"), ("registry.local:5000", "http"), ("ghcr.io", "https")],
)
def test_plain_http_only_for_local_or_insecure_hosts(host: str, scheme: str) -> None:
    config = RegistryClientConfig(insecure_hosts=frozenset({"registry.local:5000"}))
    assert config.scheme_for(host) == scheme
