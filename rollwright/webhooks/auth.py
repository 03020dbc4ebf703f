"""Proving a delivery is genuine, per source: an HMAC signature where the source signs, a token where not.

Secure by default: a source with no credential configured is refused (401); there is no switch for
unauthenticated webhooks. Secrets are read once at start-up, registered with the log redactor, and
compared in constant time; none appears in a response or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from rollwright.config.models import WebhooksConfig
from rollwright.observability.logging import register_secret
from rollwright.secrets import SecretRef, SecretUnavailableError, read_secret
from rollwright.webhooks.errors import UnauthorizedError
from rollwright.webhooks.sources import SOURCES

TOKEN_HEADER = "x-rollwright-token"
_BEARER = "bearer "


class WebhookAuthConfigError(ValueError):
    """`webhooks.sources` asks for something a source cannot do, or a secret cannot be read."""


@dataclass(frozen=True, repr=False)
class SourceCredentials:
    hmac_secret: bytes | None = None
    token: bytes | None = None


def _load(ref: SecretRef | None, key: str) -> bytes | None:
    if ref is None:
        return None
    try:
        value = read_secret(ref)
    except SecretUnavailableError as exc:
        raise WebhookAuthConfigError(f"{key}: {exc}") from None
    if not value:
        raise WebhookAuthConfigError(f"{key}: the secret is empty")
    register_secret(value)
    return value.encode()


def load_credentials(config: WebhooksConfig) -> dict[str, SourceCredentials]:
    credentials: dict[str, SourceCredentials] = {}
    for name, source_config in config.sources.items():
        key = f"webhooks.sources.{name}"
        if source_config.hmac_secret is not None and SOURCES[name].signature_header is None:
            raise WebhookAuthConfigError(f"{key}.hmac_secret: {name} does not sign its deliveries; configure a token")
        credentials[name] = SourceCredentials(
            hmac_secret=_load(source_config.hmac_secret, f"{key}.hmac_secret"),
            token=_load(source_config.token, f"{key}.token"),
        )
    return credentials


def sign(secret: bytes, body: bytes) -> str:
    """The `sha256=<hex>` form GitHub uses, and Rollwright's generic form copies."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _same(expected: str | bytes, given: str) -> bool:
    # Header values are latin-1 text; compare bytes so any header is comparable, in constant time.
    expected_bytes = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(expected_bytes, given.encode("latin-1", errors="replace"))


def _presented_token(headers: Mapping[str, str], path_token: str | None) -> str | None:
    authorization = headers.get("authorization")
    if authorization is not None and authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip()
    return headers.get(TOKEN_HEADER) or path_token


def authenticate(
    source: str,
    credentials: SourceCredentials | None,
    headers: Mapping[str, str],
    body: bytes,
    path_token: str | None,
) -> None:
    """Raise UnauthorizedError unless a configured credential is presented and every one presented is right."""
    if credentials is None or (credentials.hmac_secret is None and credentials.token is None):
        raise UnauthorizedError(
            f"no credential is configured for source '{source}' (webhooks.sources.{source}); "
            "unauthenticated deliveries are refused"
        )
    signature_header = SOURCES[source].signature_header
    checked = False
    if credentials.hmac_secret is not None and signature_header is not None:
        signature = headers.get(signature_header)
        if signature is not None:
            if not _same(sign(credentials.hmac_secret, body), signature):
                raise UnauthorizedError(f"{signature_header} does not match the body")
            checked = True
    if credentials.token is not None:
        token = _presented_token(headers, path_token)
        if token is not None:
            if not _same(credentials.token, token):
                raise UnauthorizedError("the token does not match")
            checked = True
    if not checked:
        wanted = []
        if credentials.hmac_secret is not None and signature_header is not None:
            wanted.append(f"a {signature_header} signature")
        if credentials.token is not None:
            wanted.append(f"a token (Authorization: Bearer, {TOKEN_HEADER}, or /webhooks/{source}/<token>)")
        raise UnauthorizedError("missing credential: send " + " or ".join(wanted))
