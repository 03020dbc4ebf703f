"""PreviewWorkflow: what a deployment of a tag would change in each region of one environment, changing nothing.

`rollwright preview` runs it, so the preview runs where deployments do: the plan and the registry as the
workers see them, `pulumi preview` on the Pulumi task queue with the workers' backend and passphrase. No
Pulumi secret is needed on an engineer's laptop, and the preview shows what the workers would really do.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from workflows.steps import Steps

with workflow.unsafe.imports_passed_through():
    from activities.contracts import InspectCandidateInput, ProvisionInput
    from rollwright.domain.deployment import DEFAULT_PULUMI_TASK_QUEUE, DeploymentLimits, PipelineSettings
    from rollwright.domain.digest import short
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.plan import EnvironmentPlan
    from rollwright.domain.preview import PREVIEW_WORKFLOW, PreviewReport, PreviewRequest, RegionPreview


def _failure(error: ActivityError) -> tuple[str, str | None]:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message, cause.type
    if isinstance(cause, FailureError):
        return cause.message, None
    return str(cause or error), None


@workflow.defn(name=PREVIEW_WORKFLOW)
class PreviewWorkflow:
    @workflow.run
    async def run(self, request: PreviewRequest) -> PreviewReport:
        report = PreviewReport(service=request.service, environment=request.environment, tag=request.tag)
        steps = Steps(DeploymentLimits(), DEFAULT_PULUMI_TASK_QUEUE)
        try:
            settings = await steps.read_service_plan(request.service)
        except ActivityError as error:
            report.problem = _failure(error)[0]
            return report
        env = next((env for env in settings.plan.environments if env.name == request.environment), None)
        if env is None:
            known = ", ".join(env.name for env in settings.plan.environments)
            report.problem = f"{request.service} has no environment {request.environment!r} (configured: {known})"
            return report
        steps = Steps(settings.limits, settings.pulumi_task_queue)
        try:
            candidate = await steps.inspect_candidate(InspectCandidateInput(service=request.service, tag=request.tag))
        except ActivityError as error:
            report.problem = f"cannot resolve {settings.plan.image}:{request.tag}: {_failure(error)[0]}"
            return report
        report.digest = candidate.digest
        targets = [
            RegionTarget(service=request.service, environment=env.name, region=region)
            for wave in env.waves
            for region in wave
        ]
        report.regions = list(
            await asyncio.gather(*(self._preview(steps, settings, env, target, candidate.digest) for target in targets))
        )
        return report

    async def _preview(
        self, steps: Steps, settings: PipelineSettings, env: EnvironmentPlan, target: RegionTarget, digest: str
    ) -> RegionPreview:
        plan = settings.plan
        try:
            result = await steps.preview(
                ProvisionInput(
                    target=target,
                    image=plan.image,
                    digest=digest,
                    program=plan.pulumi_program,
                    pulumi_config=env.pulumi_config,
                    canary_steps=list(plan.canary.steps),
                    analysis=plan.analysis_for(env, target.region),
                    workflow_id=workflow.info().workflow_id,
                ),
                f"pulumi preview {target.stack_name} → {short(digest)}",
            )
        except ActivityError as error:
            message, kind = _failure(error)
            return RegionPreview(target=target, error=message, error_type=kind)
        return RegionPreview(target=target, result=result)
