"""The CLI's side of the control API: each operation is one HTTP call with the operator's bearer token.

The API's refusals come back as the same one-line errors the direct path raises: 404 and 400/422 are usage
errors (exit 2), 409, 403 and 503 failures (exit 1); a 401 (no token, or one the API does not accept) is a usage
error too, since only the operator can fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from rollwright.api.paths import path_of
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.config.models import ApiConfig
from rollwright.control.errors import Conflict, ControlError, Forbidden, Invalid, NotFound, Unavailable, one_line
from rollwright.control.freezes import FreezeResult, UnfreezeResult
from rollwright.control.models import (
    Action,
    ControlResult,
    DeploymentOrder,
    DeployOrder,
    FreezeOrder,
    LaneResult,
    Pinned,
    PromoteOrder,
    Queued,
    ReleaseOrder,
    RollbackOrder,
    Unblocked,
    UnblockOrder,
    UnfreezeOrder,
)
from rollwright.control.status import ServiceStatus
from rollwright.domain.deployment import ControlName

T = TypeVar("T")

_REFUSALS: dict[int, type[ControlError]] = {
    400: Invalid,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
    503: Unavailable,
}


def read_token(api: ApiConfig) -> str:
    token = os.environ.get(api.token_env, "").strip()
    if not token and api.token_file is not None:
        path = Path(api.token_file).expanduser()
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise UsageError(f"cannot read the control API token from {path}: {exc.strerror}") from None
    if not token:
        where = f"${api.token_env}" + (f" or {api.token_file}" if api.token_file else "")
        raise UsageError(f"api.url is configured but no token was found in {where}")
    return token


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text) or response.reason_phrase
    if isinstance(body, dict):
        return one_line(body.get("reason") or body.get("detail") or body)
    return one_line(body)


class ApiOperations:
    def __init__(self, api: ApiConfig) -> None:
        assert api.url is not None
        self._api = api
        self._url = api.url.rstrip("/")

    async def _call(self, action: Action, adapter: TypeAdapter[T], body: BaseModel | None, **params: str) -> T:
        headers = {"authorization": f"Bearer {read_token(self._api)}"}
        url = self._url + path_of(action)
        try:
            async with httpx.AsyncClient(timeout=self._api.timeout.total_seconds()) as http:
                if body is None:
                    response = await http.get(url, headers=headers, params=params)
                else:
                    content = body.model_dump_json(exclude_none=True)
                    headers["content-type"] = "application/json"
                    response = await http.post(url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            detail = one_line(exc) or type(exc).__name__
            raise OperationFailed(f"cannot reach the control API at {self._url}: {detail}") from None
        if response.status_code == 401:
            raise UsageError(f"the control API refused the token: {_reason(response)}")
        refusal = _REFUSALS.get(response.status_code)
        if refusal is not None:
            raise refusal(_reason(response))
        if response.status_code != 200:
            raise OperationFailed(f"the control API answered {response.status_code}: {_reason(response)}")
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise OperationFailed(f"the control API's answer is not what this CLI reads: {one_line(exc)}") from None

    async def control(self, control: ControlName, order: DeploymentOrder) -> ControlResult:
        return await self._call(Action(control.value), TypeAdapter(ControlResult), order)

    async def rollback(self, order: RollbackOrder) -> list[LaneResult]:
        return await self._call(Action.ROLLBACK, TypeAdapter(list[LaneResult]), order)

    async def release(self, order: ReleaseOrder) -> list[LaneResult]:
        return await self._call(Action.RELEASE, TypeAdapter(list[LaneResult]), order)

    async def promote(self, order: PromoteOrder) -> LaneResult:
        return await self._call(Action.PROMOTE, TypeAdapter(LaneResult), order)

    async def deploy(self, order: DeployOrder) -> Queued | Pinned:
        shape: TypeAdapter[Any] = TypeAdapter(Pinned if order.environment is not None else Queued)
        result: Queued | Pinned = await self._call(Action.DEPLOY, shape, order)
        return result

    async def unblock(self, order: UnblockOrder) -> Unblocked:
        return await self._call(Action.UNBLOCK, TypeAdapter(Unblocked), order)

    async def status(self, service: str | None) -> list[ServiceStatus]:
        params = {"service": service} if service else {}
        return await self._call(Action.STATUS, TypeAdapter(list[ServiceStatus]), None, **params)

    async def freeze(self, order: FreezeOrder) -> FreezeResult:
        return await self._call(Action.FREEZE, TypeAdapter(FreezeResult), order)

    async def unfreeze(self, order: UnfreezeOrder) -> UnfreezeResult:
        return await self._call(Action.UNFREEZE, TypeAdapter(UnfreezeResult), order)
