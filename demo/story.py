"""The demo's two acts: push a version, watch it roll out region by region, and say what happened."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from demo import sample
from demo.narrator import Narrator
from demo.stack import DemoStack, until
from devstack.images import BuiltManifest, build_image, push_manifest
from rollwright.domain.deployment import (
    STATUS_QUERY,
    ControlAnswer,
    ControlName,
    ControlRequest,
    DeploymentResult,
    DeploymentStatus,
    PipelineStatus,
    pipeline_workflow_id,
)
from rollwright.domain.digest import short

DEMO_ACTOR = "rollwright-demo"


@functools.cache
def demo_image(tag: str) -> BuiltManifest:
    """The sample image for `tag`, built once, so the digest whose traffic is made to fail is the one pushed."""
    return build_image(f"{sample.SERVICE}-{tag}", created=datetime.now(UTC))


async def _current_deployment(stack: DemoStack, tag: str, *, timeout: float) -> str:
    """Wait for the service's pipeline to start a deployment of `tag`; return its workflow id."""
    pipeline = stack.client.get_workflow_handle(pipeline_workflow_id(sample.SERVICE))
    found: list[str] = []

    async def started() -> bool:
        try:
            status = await pipeline.query(STATUS_QUERY, result_type=PipelineStatus)
        except RPCError:
            return False  # the webhook has not signalled the pipeline yet
        if status.current is not None and status.current.tag == tag and status.current_workflow_id:
            found.append(status.current_workflow_id)
            return True
        return False

    if not await until(started, timeout=timeout):
        raise TimeoutError(
            f"no deployment of {tag} started within {timeout:.0f}s: see {stack.workdir / 'logs'}/webhook.log"
        )
    return found[0]


def _describe_regions(status: DeploymentStatus) -> dict[str, str]:
    described = {}
    for region in status.regions:
        step = f" step {region.canary_step}" if region.canary_step is not None else ""
        digest = f" {short(region.digest)}" if region.digest else ""
        message = f" — {region.message}" if region.message else ""
        described[f"{region.environment}/{region.region}"] = f"{region.phase.value}{digest}{step}{message}"
    return described


async def _follow(
    handle: WorkflowHandle[Any, DeploymentResult], narrator: Narrator, *, approve: bool
) -> DeploymentResult:
    shown: dict[str, str] = {}
    phase = ""
    approved: set[str] = set()
    result_task = asyncio.create_task(handle.result())
    while not result_task.done():
        try:
            status = await handle.query(STATUS_QUERY, result_type=DeploymentStatus)
        except RPCError:
            await asyncio.sleep(0.5)
            continue
        if status.phase.value != phase:
            phase = status.phase.value
            where = f" ({status.current_environment})" if status.current_environment else ""
            narrator.say(f"phase: {phase}{where}")
        for key, text in _describe_regions(status).items():
            if shown.get(key) != text:
                shown[key] = text
                narrator.detail(f"{key}: {text}")
        waiting = status.awaiting_approval
        if approve and waiting and waiting not in approved:
            approved.add(waiting)
            narrator.say(
                f"{waiting} needs an approval. An engineer would run: rollwright approve {sample.SERVICE} "
                f"--reason '...' (or send the 'approve' update from the Temporal UI). The demo approves itself now."
            )
            answer = await handle.execute_update(
                ControlName.APPROVE.value,
                ControlRequest(actor=DEMO_ACTOR, reason=f"demo: {waiting} approved after the earlier environments"),
                result_type=ControlAnswer,
            )
            narrator.detail(f"workflow answered: {answer.message}")
        await asyncio.wait({result_task}, timeout=1.0)
    return result_task.result()


async def deploy(stack: DemoStack, narrator: Narrator, tag: str, *, timeout: float = 420) -> DeploymentResult:
    digest = await push_manifest(stack.registry.url, sample.REPOSITORY, tag, demo_image(tag))
    narrator.say(f"pushed {stack.registry.host}/{sample.REPOSITORY}:{tag} ({short(digest)})")
    deployment_id = await _current_deployment(stack, tag, timeout=60)
    narrator.say(f"registry → webhook → pipeline started deployment {deployment_id}")
    handle = stack.client.get_workflow_handle(deployment_id, result_type=DeploymentResult)
    result = await asyncio.wait_for(_follow(handle, narrator, approve=True), timeout=timeout)
    narrator.say(
        f"deployment of {tag} ended: {result.outcome.value}" + (f" — {result.reason}" if result.reason else "")
    )
    return result


def fail_next_version_in_prod_wave_two(stack: DemoStack, narrator: Narrator, tag: str) -> str:
    """Make `tag` answer a share of its requests in prod's second wave with 5xx; return the digest it will have."""
    digest = demo_image(tag).digest
    stack.wave_two_traffic.fail(digest, sample.FAILING_ERROR_RATIO)
    narrator.say(
        f"{tag} will answer {sample.FAILING_ERROR_RATIO:.0%} of its requests in {', '.join(sample.PROD_WAVES[1])} "
        f"with 5xx (the traffic simulator of those regions' users is told so); their Prometheus will measure it and "
        f"the Argo Rollouts controller judge its {sample.CHECK_NAME} check"
    )
    return digest
