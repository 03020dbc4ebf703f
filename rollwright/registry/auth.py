"""Registry authentication: anonymous first, then whatever the `WWW-Authenticate` challenge asks for.

Basic challenges get the host's configured credentials. Bearer challenges (Docker Hub, GHCR, Harbor,
Distribution with token auth) are answered by asking the challenge's realm for a token for the
challenge's scope, presenting the basic credentials there if the host has any.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import httpx

from rollwright.observability.logging import get_logger, register_secret
from rollwright.registry.config import BasicCredentials, RegistryClientConfig
from rollwright.registry.errors import RegistryAuthError, RegistryProtocolError
from rollwright.registry.exchange import send_once

log = get_logger(__name__)

_PARAM_RE = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge:
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM_RE.finditer(rest)
    }
    return Challenge(scheme=scheme.lower(), params=params)


def _basic_header(credentials: BasicCredentials) -> str:
    raw = f"{credentials.username}:{credentials.password.get_secret_value()}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class RegistryAuthenticator:
    """Remembers, per host, how that registry wants to be spoken to, and caches bearer tokens per scope."""

    def __init__(self, config: RegistryClientConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._basic_hosts: set[str] = set()
        self._tokens: dict[tuple[str, str], str] = {}

    def authorization(self, host: str, scope: str) -> str | None:
        """The Authorization header to send up front, if an earlier challenge told us what works."""
        token = self._tokens.get((host, scope))
        if token is not None:
            return f"Bearer {token}"
        credentials = self._config.credentials_for(host)
        if host in self._basic_hosts and credentials is not None:
            return _basic_header(credentials)
        return None

    def forget(self, host: str, scope: str) -> None:
        self._tokens.pop((host, scope), None)

    async def answer(self, host: str, scope: str, response: httpx.Response) -> None:
        """Satisfy a 401's challenge so that `authorization()` gives what to retry with."""
        header = response.headers.get("www-authenticate")
        if not header:
            raise RegistryAuthError(f"registry {host} answered 401 without a WWW-Authenticate challenge", status=401)
        challenge = parse_challenge(header)
        credentials = self._config.credentials_for(host)
        if challenge.scheme == "basic":
            if credentials is None:
                raise RegistryAuthError(f"registry {host} requires credentials and none are configured", status=401)
            self._basic_hosts.add(host)
            return
        if challenge.scheme != "bearer":
            raise RegistryAuthError(f"registry {host} asks for unsupported auth scheme {challenge.scheme!r}")
        self._tokens[(host, scope)] = await self._fetch_token(host, challenge, scope, credentials)

    async def _fetch_token(
        self, host: str, challenge: Challenge, scope: str, credentials: BasicCredentials | None
    ) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError(f"registry {host}'s bearer challenge names no realm")
        # The challenge's scope is what the registry needs; ours is the fallback when it names none.
        scopes = (challenge.params.get("scope") or scope).split()
        pairs: list[tuple[str, str | int | float | bool | None]] = [("scope", s) for s in scopes]
        if "service" in challenge.params:
            pairs.append(("service", challenge.params["service"]))
        url = httpx.URL(realm).copy_merge_params(httpx.QueryParams(pairs))
        headers = {"Authorization": _basic_header(credentials)} if credentials is not None else {}
        response = await send_once(self._http, self._http.build_request("GET", url, headers=headers))
        if response.status_code in (401, 403):
            who = f"user {credentials.username!r}" if credentials is not None else "anonymous access"
            raise RegistryAuthError(
                f"token service {realm} refused {who} for {' '.join(scopes)} (HTTP {response.status_code})",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise RegistryProtocolError(f"token service {realm} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RegistryProtocolError(f"token service {realm} answered non-JSON") from exc
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryProtocolError(f"token service {realm} answered without a token")
        register_secret(token)
        log.debug("registry_token_obtained", host=host, scopes=scopes)
        return token
