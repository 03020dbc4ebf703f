"""One HTTP exchange with Argo CD, sent once: bearer auth, errors by kind.

A 5xx, 429, timeout or lost connection is ArgoCDUnavailableError at once. Whether to try again is the caller's
choice: the follower rides out a short outage within its stated budget, everything else is Temporal's to retry.
A watch stream is one long exchange: its messages come as they happen, and its end is the caller's to handle.
"""

from __future__ import annotations

import json as jsonlib
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from rollwright.argocd.config import ArgoCDClientConfig
from rollwright.argocd.errors import (
    ArgoCDAuthError,
    ArgoCDError,
    ArgoCDNotFoundError,
    ArgoCDPermissionError,
    ArgoCDRequestError,
    ArgoCDResponseError,
    ArgoCDUnavailableError,
    OperationInProgressError,
)

# util/argo/argo.go: the FailedPrecondition text a sync gets while another operation runs.
OPERATION_IN_PROGRESS = "another operation is already in progress"


def _verify(config: ArgoCDClientConfig) -> bool | ssl.SSLContext:
    if not config.tls.verify:
        return False
    if config.tls.ca_file:
        return ssl.create_default_context(cafile=config.tls.ca_file)
    return True


def build_http_client(config: ArgoCDClientConfig) -> httpx.AsyncClient:
    headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return httpx.AsyncClient(
        base_url=config.server.rstrip("/"),
        headers=headers,
        timeout=config.timeouts.for_httpx(),
        transport=config.connect_retries.transport(verify=_verify(config)),
    )


def _error_text(response: httpx.Response) -> str:
    """Argo CD's runtimeError `message`, or the raw body when the answer is not JSON (a proxy, say)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:300]


def error_for(response: httpx.Response, what: str) -> ArgoCDError:
    status = response.status_code
    text = _error_text(response)
    if status == 401:
        return ArgoCDAuthError(f"{what}: Argo CD rejected the token (401: {text}); check argocd.token", status=status)
    if status == 403:
        return ArgoCDPermissionError(
            f"{what}: permission denied (403: {text}); the token lacks RBAC for this, "
            "or the application does not exist (Argo CD answers 403 for apps it will not show)",
            status=status,
        )
    if status == 404:
        return ArgoCDNotFoundError(f"{what}: not found (404: {text})", status=status)
    if status == 400 and OPERATION_IN_PROGRESS in text:
        return OperationInProgressError(f"{what}: {text}", status=status)
    if status >= 500 or status == 429:
        return ArgoCDUnavailableError(f"{what}: Argo CD answered {status}: {text}", status=status)
    return ArgoCDRequestError(f"{what}: Argo CD refused the request ({status}: {text})", status=status)


async def send(
    http: httpx.AsyncClient,
    config: ArgoCDClientConfig,
    method: str,
    path: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    json: Any = None,
) -> Any:
    """Send a request once and return its JSON body; any failure raises its kind of ArgoCDError."""
    try:
        response = await http.request(method, path, params=params, json=json)
    except httpx.TransportError as exc:  # timeouts are transport errors too
        raise ArgoCDUnavailableError(f"{what}: cannot reach Argo CD at {config.server}: {exc!r}") from exc
    if not response.is_success:
        raise error_for(response, what)
    try:
        return response.json() if response.content else {}
    except ValueError as exc:
        raise ArgoCDResponseError(f"{what}: answer is not JSON: {response.text[:200]!r}") from exc


# httpcore's trace event once a request is wholly sent and its answer awaited (http11. or http2. before it).
_AWAITING_ANSWER = "receive_response_headers.started"


def json_object(text: str, what: str, *, kind: str) -> dict[str, Any]:
    """`text` (a `kind` of Argo CD's answer) read as a JSON object; ArgoCDResponseError naming it otherwise."""
    try:
        parsed = jsonlib.loads(text)
    except ValueError as exc:
        raise ArgoCDResponseError(f"{what}: {kind} is not JSON: {text[:200]!r}") from exc
    if not isinstance(parsed, dict):
        raise ArgoCDResponseError(f"{what}: {kind} is not an object: {text[:200]!r}")
    return parsed


def _stream_message(line: str, what: str) -> Any:
    """The `result` of one line of a watch stream; an `error` line ends the stream with it."""
    message = json_object(line, what, kind="stream line")
    if "result" in message:
        return message["result"]
    error = message["error"] if isinstance(message.get("error"), dict) else {}
    status = error.get("http_code") if isinstance(error.get("http_code"), int) else None
    text = error.get("message") or line[:300]
    raise ArgoCDUnavailableError(f"{what}: Argo CD ended the stream with an error ({status}: {text})", status=status)


async def stream(
    http: httpx.AsyncClient,
    config: ArgoCDClientConfig,
    path: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    on_listening: Callable[[], None] = lambda: None,
) -> AsyncIterator[Any]:
    """Each message of a watch stream (one JSON object a line, `{"result": ...}`) as it comes, until Argo CD ends
    the stream; a failure raises its kind of ArgoCDError.

    `on_listening` is called once the request is out and only the answer is awaited: some streams (the resource
    tree's) send nothing, not even headers, until something changes, so the answer cannot say that. No read
    timeout: a stream is silent for as long as nothing changes.
    """

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(_AWAITING_ANSWER):
            on_listening()

    timeout = config.timeouts.for_httpx()
    timeout = httpx.Timeout(connect=timeout.connect, read=None, write=timeout.write, pool=timeout.pool)
    try:
        async with http.stream("GET", path, params=params, timeout=timeout, extensions={"trace": trace}) as response:
            if not response.is_success:
                await response.aread()
                raise error_for(response, what)
            async for line in response.aiter_lines():
                if line.strip():
                    yield _stream_message(line, what)
    except httpx.HTTPError as exc:  # transport errors, and an answer that cannot be decoded
        raise ArgoCDUnavailableError(f"{what}: the stream from {config.server} broke: {exc!r}") from exc
