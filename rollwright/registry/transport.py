"""Authenticated requests to one registry API, each sent once: the layer every registry operation goes through."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from rollwright.registry.auth import RegistryAuthenticator
from rollwright.registry.config import RegistryClientConfig
from rollwright.registry.errors import RegistryAuthError, RegistryProtocolError
from rollwright.registry.exchange import send_once
from rollwright.registry.reference import ImageReference

DIGEST_HEADER = "docker-content-digest"


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


class RegistryTransport:
    def __init__(self, config: RegistryClientConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self._auth = RegistryAuthenticator(config, http)

    def base_url(self, ref: ImageReference) -> str:
        return f"{self._config.scheme_for(ref.host)}://{ref.api_host}"

    def url(self, ref: ImageReference, path: str) -> str:
        """Absolute URL for `path` under `/v2/<repository>/`, or a registry-given Location as is."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return self.base_url(ref) + path
        return f"{self.base_url(ref)}/v2/{ref.repository}/{path}"

    async def request(
        self,
        method: str,
        ref: ImageReference,
        path: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with auth. 401 after answering the challenge, and any 403, raise RegistryAuthError.

        A 5xx, 429, timeout or connection failure raises RegistryUnavailableError at once.
        """
        # Upload Locations carry the registry's own state in their query; params add to it, never replace it.
        url = httpx.URL(self.url(ref, path)).copy_merge_params(dict(params or {}))

        # Built again after a challenge, so the second request carries what answered it.
        def build() -> httpx.Request:
            merged = dict(headers or {})
            authorization = self._auth.authorization(ref.host, scope)
            if authorization is not None:
                merged["Authorization"] = authorization
            return self._http.build_request(method, url, headers=merged, content=content)

        response = await send_once(self._http, build(), stream=stream)
        if response.status_code == 401:
            await response.aclose()
            # A cached token may have expired: answer the fresh challenge once, then give up.
            self._auth.forget(ref.host, scope)
            await self._auth.answer(ref.host, scope, response)
            response = await send_once(self._http, build(), stream=stream)
        if response.status_code in (401, 403):
            await response.aclose()
            who = self._config.credentials_for(ref.host)
            identity = f"user {who.username!r}" if who is not None else "anonymous access"
            verb = "rejected the credentials of" if response.status_code == 401 else "denied"
            raise RegistryAuthError(
                f"registry {ref.host} {verb} {identity} for {method} {ref.repository} (HTTP {response.status_code})",
                status=response.status_code,
            )
        return response


def require_location(response: httpx.Response, what: str) -> str:
    location = str(response.headers.get("location", ""))
    if not location:
        raise RegistryProtocolError(f"{what}: registry answered {response.status_code} without a Location header")
    return location
