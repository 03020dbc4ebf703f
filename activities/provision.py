"""Provision activities (Pulumi task queue): preview a region's stack, or provision it behind the policy packs.

Thin over `provisioning`: this is the one place its errors become Temporal ApplicationErrors. Each run
happens in a child process; cancelling the activity cancels the Pulumi operation (SIGINT, then kill).
Heartbeats keep flowing while the run lives (a cloud resource may take many minutes without an engine
event), so a dead worker is noticed within the heartbeat timeout and cancellation is delivered; a run
that hangs is bounded by the activity's start-to-close timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, ErrorType, ProvisionInput, ProvisionResult
from activities.heartbeat import Pulse, pulse
from activities.settings import guardrail_context, runner_settings
from activities.versions import shared_store, store_failure
from rollwright.config.models import RollwrightConfig
from rollwright.domain.identity import RegionTarget
from rollwright.domain.policy import EnforcementLevel
from rollwright.domain.preview import PreviewResult
from rollwright.observability.logging import get_logger
from rollwright.provisioning.cli_binary import pulumi_bin_dir
from rollwright.provisioning.errors import (
    GuardrailViolation,
    ProgramError,
    ProvisioningError,
    PulumiSetupError,
    StackBusyError,
)
from rollwright.provisioning.protocol import Progress
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.region import preview_region, stack_inputs
from rollwright.provisioning.settings import RunnerSettings
from rollwright.provisioning.working_copy import read_region_manifests
from rollwright.stacks.inputs import RenderPurpose, StackInputs
from rollwright.stacks.k8s_manifests import content_hash
from rollwright.versionstore import VersionStore, VersionStoreError

log = get_logger(__name__)

STACK_BUSY = "StackBusy"
PULUMI_OPERATION_FAILED = "PulumiOperationFailed"


def to_application_error(exc: ProvisioningError) -> ApplicationError:
    if isinstance(exc, GuardrailViolation):
        return ApplicationError(str(exc), exc.violations, type=ErrorType.GUARDRAIL_VIOLATION, non_retryable=True)
    if isinstance(exc, ProgramError):
        return ApplicationError(str(exc), type=ErrorType.PULUMI_PROGRAM_ERROR, non_retryable=True)
    if isinstance(exc, PulumiSetupError):
        return ApplicationError(str(exc), type=ErrorType.CONFIG_INVALID, non_retryable=True)
    if isinstance(exc, StackBusyError):
        return ApplicationError(str(exc), type=STACK_BUSY)
    return ApplicationError(str(exc), type=PULUMI_OPERATION_FAILED)


class _Progress:
    """The Pulumi run's progress as heartbeat details; the pulse re-sends them while resources take their time."""

    def __init__(self, beats: Pulse, target: RegionTarget) -> None:
        self._beats = beats
        self._details: dict[str, Any] = {"target": target.key, "phase": "starting"}
        beats.report(self._details)

    def progress(self, progress: Progress) -> None:
        self._details = {**self._details, "phase": "running", **progress.model_dump(exclude={"kind"})}
        self._beats.report(self._details)


@contextlib.asynccontextmanager
async def _heartbeating(target: RegionTarget) -> AsyncIterator[_Progress]:
    # Long resource operations send no events: the pulse keeps beating, so a cancellation still arrives.
    async with pulse() as beats:
        yield _Progress(beats, target)


class ProvisionActivities:
    def __init__(self, config: RollwrightConfig, store: VersionStore, settings: RunnerSettings | None = None) -> None:
        self._config = config
        self._store = store
        self._provisioner = Provisioner(settings or runner_settings(config))

    def _inputs(self, request: ProvisionInput) -> StackInputs:
        return stack_inputs(
            self._provisioner,
            target=request.target,
            image=request.image,
            digest=request.digest,
            purpose=RenderPurpose(request.purpose.value),
            canary_steps=request.canary_steps,
            analysis=request.analysis,
            namespace=request.target.fill(self._config.argocd.namespace),
            settings=request.pulumi_config,
        )

    @activity.defn(name=ActivityName.PREVIEW_REGION)
    async def preview_region(self, request: ProvisionInput) -> PreviewResult:
        target = request.target
        async with _heartbeating(target):
            try:
                return await preview_region(
                    self._provisioner, self._inputs(request), request.program, guardrail_context(self._config, target)
                )
            except ProvisioningError as exc:
                raise to_application_error(exc) from exc

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, request: ProvisionInput) -> ProvisionResult:
        target = request.target
        async with _heartbeating(target) as beats:
            try:
                result = await self._provisioner.provision(
                    self._inputs(request),
                    request.program,
                    guardrail_context(self._config, target),
                    on_progress=beats.progress,
                )
            except ProvisioningError as exc:
                raise to_application_error(exc) from exc
        manifests = read_region_manifests(self._provisioner.manifests_dir(target.stack_name), target)
        rendered = content_hash(manifests)
        # By reference: the files would otherwise sit in the deployment's history, and in every worker replaying
        # it, twice (this result and the commit's input).
        try:
            await asyncio.to_thread(self._store.keep_manifests, rendered, manifests)
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        log.info("region_provisioned", target=target.key, changed=result.changed, files=len(manifests))
        database_url = result.outputs.get("databaseUrl")
        return ProvisionResult(
            target=target,
            content_hash=rendered,
            manifests_ref=rendered,
            database_url=str(database_url) if database_url else None,
            changed_resources=result.changed,
            advisories=[verdict for verdict in result.verdicts if verdict.level is EnforcementLevel.ADVISORY],
        )


def create_activities(config: RollwrightConfig, settings: RunnerSettings | None = None) -> list[Callable[..., Any]]:
    # Resolved once at start-up: a worker without the right pulumi CLI should fail now, not mid-deployment.
    settings = settings or runner_settings(config, bin_dirs=[pulumi_bin_dir()])
    activities = ProvisionActivities(config, shared_store(config), settings)
    return [activities.provision_region, activities.preview_region]
