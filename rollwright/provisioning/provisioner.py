"""The provisioning client: preview or provision one stack, recovering from dead runs on the way.

Before each operation, locks left by dead `pulumi` processes are cleared, what they left half-written in the
stack's files is removed (rollwright.provisioning.half_writes), and the stack's pending operations are resolved
(`refresh --clear-pending-creates`), so a worker killed mid-`up` needs no manual step: the retry converges.
A lock held by a live process is a StackBusyError, which callers retry.
"""

from __future__ import annotations

from pathlib import Path

from rollwright.observability.logging import get_logger
from rollwright.provisioning.errors import (
    GuardrailViolation,
    ProgramError,
    ProvisioningError,
    PulumiOperationError,
    PulumiSetupError,
    StackBusyError,
)
from rollwright.provisioning.half_writes import remove_half_writes
from rollwright.provisioning.locks import clear_stale_locks
from rollwright.provisioning.protocol import ChildRequest, ChildResult, ErrorKind, GuardrailContext, Operation
from rollwright.provisioning.runner import ProgressCallback, PulumiRunner
from rollwright.provisioning.settings import RunnerSettings
from rollwright.stacks.inputs import StackInputs

log = get_logger(__name__)


class Provisioner:
    def __init__(self, settings: RunnerSettings, runner: PulumiRunner | None = None) -> None:
        self._settings = settings
        self._runner = runner or PulumiRunner(settings)

    def manifests_dir(self, stack: str) -> Path:
        return self._settings.stack_dir(stack) / "gitops"

    def data_dir(self) -> Path:
        return self._settings.work_root / "databases"

    async def preview(self, inputs: StackInputs, program: str, guardrails: GuardrailContext) -> ChildResult:
        return await self._run(self._request(Operation.PREVIEW, inputs, program, guardrails))

    async def provision(
        self,
        inputs: StackInputs,
        program: str,
        guardrails: GuardrailContext,
        on_progress: ProgressCallback | None = None,
    ) -> ChildResult:
        """Preview with the policy packs, refuse on any mandatory violation, then `up` with the same packs."""
        return await self._run(self._request(Operation.PROVISION, inputs, program, guardrails), on_progress)

    async def refresh(self, inputs: StackInputs, program: str) -> ChildResult:
        """Bring the stack's state in line with what really exists."""
        return await self._run(self._request(Operation.REFRESH, inputs, program, None))

    async def destroy(
        self, inputs: StackInputs, program: str, on_progress: ProgressCallback | None = None
    ) -> ChildResult:
        """Remove what the stack manages; protected resources (the environment's database) stay."""
        return await self._run(self._request(Operation.DESTROY, inputs, program, None), on_progress)

    def _request(
        self, operation: Operation, inputs: StackInputs, program: str, guardrails: GuardrailContext | None
    ) -> ChildRequest:
        stack = inputs.target.stack_name
        return ChildRequest(
            operation=operation,
            project=self._settings.project,
            stack=stack,
            work_dir=str(self._settings.stack_dir(stack) / "workspace"),
            program=program,
            config=inputs.to_config(),
            guardrails=guardrails,
            policy_packs=[str(pack) for pack in self._settings.policy_packs],
        )

    async def _run(self, request: ChildRequest, on_progress: ProgressCallback | None = None) -> ChildResult:
        await self._recover(request)
        result = await self._runner.run(request, on_progress)
        if result.error is not None and result.error.kind is ErrorKind.BUSY and self._clear_stale(request.stack):
            # The lock we met belonged to a process that has since died: recover and go again, once.
            await self._recover(request, writer_died=True)
            result = await self._runner.run(request, on_progress)
        _raise_for(request, result)
        return result

    def _clear_stale(self, stack: str) -> int:
        backend_dir = self._settings.backend_dir
        if backend_dir is None:
            return 0
        return clear_stale_locks(backend_dir, self._settings.project, stack)

    def _remove_half_writes(self, stack: str, *, writer_died: bool) -> list[Path]:
        backend_dir = self._settings.backend_dir
        if backend_dir is None:
            return []
        return remove_half_writes(backend_dir, self._settings.project, stack, writer_died=writer_died)

    async def _recover(self, request: ChildRequest, *, writer_died: bool = False) -> None:
        writer_died = self._clear_stale(request.stack) > 0 or writer_died
        # Nobody alive holds the stack now (clearing raises StackBusyError otherwise): a dead writer's half-written
        # sidecar would fail every run on it from here on.
        removed = self._remove_half_writes(request.stack, writer_died=writer_died)
        if not writer_died and not removed:
            return
        log.warning("stack_recovering", stack=request.stack)
        refresh = request.model_copy(
            update={"operation": Operation.REFRESH, "clear_pending_creates": True, "guardrails": None}
        )
        _raise_for(refresh, await self._runner.run(refresh))


def _raise_for(request: ChildRequest, result: ChildResult) -> None:
    error = result.error
    if error is None:
        return
    operation, stack = request.operation.value, request.stack
    exc: ProvisioningError
    if error.kind is ErrorKind.GUARDRAIL:
        exc = GuardrailViolation(stack, error.violations)
    elif error.kind is ErrorKind.BUSY:
        exc = StackBusyError(stack, "another pulumi process")
    elif error.kind is ErrorKind.SETUP:
        exc = PulumiSetupError(error.message)
    elif error.kind is ErrorKind.PROGRAM:
        exc = ProgramError(operation, stack, error.message)
    else:
        exc = PulumiOperationError(operation, stack, error.message)
    raise exc
