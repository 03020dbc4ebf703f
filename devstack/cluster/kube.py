"""Just enough of the Kubernetes API over httpx for the launcher and its tests: server-side apply, get, patch,
delete, and polling until a condition holds. Objects are plain JSON dicts.

    async with KubeApi(url, token, ca_file) as kube:
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
        rollout = await kube.get(object_path("argoproj.io/v1alpha1", "Rollout", "web", "demo"))
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

FIELD_MANAGER = "rollwright-devstack"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

T = TypeVar("T")
Json = dict[str, Any]


class KubeApiError(RuntimeError):
    """The API answered a request with an error status; the message names the request and the API's reason."""

    def __init__(self, method: str, path: str, status: int, reason: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {reason}")
        self.status = status


class WaitTimeoutError(TimeoutError):
    """A condition did not hold in time; the message says which and what was last seen."""


def plural(kind: str) -> str:
    """The resource name of a kind, by the rule the kinds we use follow (Ingress-like exceptions are not needed)."""
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def object_path(api_version: str, kind: str, name: str | None = None, namespace: str | None = None) -> str:
    """The URL path of an object (or, without a name, of its collection)."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{scope}/{plural(kind)}" + (f"/{name}" if name else "")


def manifest_path(manifest: Mapping[str, Any]) -> str:
    meta = manifest["metadata"]
    return object_path(manifest["apiVersion"], manifest["kind"], meta["name"], meta.get("namespace"))


def condition_true(obj: Mapping[str, Any] | None, condition: str) -> bool:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == condition and c.get("status") == "True" for c in conditions)


async def wait_until(
    check: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    last_seen: Callable[[], str] | None = None,
) -> T:
    """Poll `check` until it returns something other than None (or False); that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            seen = f"; last seen: {last_seen()}" if last_seen else ""
            raise WaitTimeoutError(f"{what}: not within {timeout:.0f}s{seen}")
        await asyncio.sleep(interval)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return response.text[:500]


class KubeApi:
    def __init__(self, url: str, token: str, ca_file: Path, *, timeout: float = 30.0) -> None:
        self.url = url
        self._http = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=str(ca_file)),
            timeout=timeout,
        )

    async def __aenter__(self) -> KubeApi:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> Json:
        content = None if body is None else json.dumps(body).encode()
        response = await self._http.request(
            method, path, content=content, params=params, headers={"Content-Type": content_type}
        )
        if response.is_error:
            raise KubeApiError(method, path, response.status_code, _reason(response))
        result: Json = response.json() if response.content else {}
        return result

    async def get(self, path: str, *, params: Mapping[str, str] | None = None) -> Json:
        return await self.request("GET", path, params=params)

    async def get_or_none(self, path: str) -> Json | None:
        try:
            return await self.get(path)
        except KubeApiError as error:
            if error.status == 404:
                return None
            raise

    async def apply(self, manifest: Mapping[str, Any]) -> Json:
        """Server-side apply: creates the object or makes our fields of it match, whatever was there before."""
        return await self.request(
            "PATCH",
            manifest_path(manifest),
            body=manifest,
            content_type=APPLY_PATCH,
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
        )

    async def merge_patch(self, path: str, patch: Mapping[str, Any]) -> Json:
        return await self.request("PATCH", path, body=patch, content_type=MERGE_PATCH)

    async def json_patch(self, path: str, operations: list[Json]) -> Json:
        return await self.request("PATCH", path, body=operations, content_type=JSON_PATCH)

    async def delete(self, path: str) -> None:
        try:
            await self.request("DELETE", path)
        except KubeApiError as error:
            if error.status != 404:
                raise

    async def healthy(self, endpoint: str = "/readyz") -> bool:
        try:
            response = await self._http.get(endpoint)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
