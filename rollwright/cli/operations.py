"""What a command asks for, performed one of two ways: through the control API when `api.url` is configured
(the API verifies who asks), else straight to Temporal under the name `--actor` gives."""

from __future__ import annotations

from typing import Protocol

from rollwright.cli.context import Context
from rollwright.cli.remote import ApiOperations
from rollwright.control import (
    control_deployment,
    deploy,
    freeze,
    promote,
    release,
    rollback,
    status,
    unblock,
    unfreeze,
)
from rollwright.control.freezes import FreezeResult, UnfreezeResult
from rollwright.control.models import (
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


class Operations(Protocol):
    async def control(self, control: ControlName, order: DeploymentOrder) -> ControlResult: ...
    async def rollback(self, order: RollbackOrder) -> list[LaneResult]: ...
    async def release(self, order: ReleaseOrder) -> list[LaneResult]: ...
    async def promote(self, order: PromoteOrder) -> LaneResult: ...
    async def deploy(self, order: DeployOrder) -> Queued | Pinned: ...
    async def unblock(self, order: UnblockOrder) -> Unblocked: ...
    async def status(self, service: str | None) -> list[ServiceStatus]: ...
    async def freeze(self, order: FreezeOrder) -> FreezeResult: ...
    async def unfreeze(self, order: UnfreezeOrder) -> UnfreezeResult: ...


class DirectOperations:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def control(self, control: ControlName, order: DeploymentOrder) -> ControlResult:
        return await control_deployment(await self._ctx.client(), self._ctx.config, self._ctx.acting, control, order)

    async def rollback(self, order: RollbackOrder) -> list[LaneResult]:
        return await rollback(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)

    async def release(self, order: ReleaseOrder) -> list[LaneResult]:
        return await release(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)

    async def promote(self, order: PromoteOrder) -> LaneResult:
        return await promote(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)

    async def deploy(self, order: DeployOrder) -> Queued | Pinned:
        return await deploy(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)

    async def unblock(self, order: UnblockOrder) -> Unblocked:
        return await unblock(self._ctx.config, self._ctx.acting, order)

    async def status(self, service: str | None) -> list[ServiceStatus]:
        return await status(await self._ctx.client(), self._ctx.config, self._ctx.acting, service)

    async def freeze(self, order: FreezeOrder) -> FreezeResult:
        return await freeze(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)

    async def unfreeze(self, order: UnfreezeOrder) -> UnfreezeResult:
        return await unfreeze(await self._ctx.client(), self._ctx.config, self._ctx.acting, order)


def operations(ctx: Context) -> Operations:
    if ctx.config.api.url is not None:
        return ApiOperations(ctx.config.api)
    return DirectOperations(ctx)
