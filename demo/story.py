"""The demo's two acts: push a version, watch it roll out region by region, and say what happened."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
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
    DeploymentPhase,
    DeploymentResult,
    DeploymentStatus,
    PipelineStatus,
    RegionPhase,
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


def _describe_checks(status: DeploymentStatus) -> dict[str, str]:
    """Each check's verdict in each region, with the measurement that decided it. Keyed by verdict too, so a check
    that keeps passing is told once, and a failure is told when it comes."""
    return {f"{r.environment}/{r.region} {r.check} {r.verdict.value}": r.detail for r in status.checks}


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
) -> tuple[DeploymentResult, datetime | None]:
    """The deployment's result, and when it was first seen rolling back."""
    rolling_back_since: datetime | None = None
    shown: dict[str, str] = {}
    told_checks: set[str] = set()
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
            if status.phase is DeploymentPhase.ROLLING_BACK and rolling_back_since is None:
                rolling_back_since = datetime.now(UTC)
            where = f" ({status.current_environment})" if status.current_environment else ""
            until_ = f" until {status.watching_until:%H:%M:%S}" if status.watching_until else ""
            narrator.say(f"phase: {phase}{where}{until_}")
        for key, text in _describe_regions(status).items():
            if shown.get(key) != text:
                shown[key] = text
                narrator.detail(f"{key}: {text}")
        for key, text in _describe_checks(status).items():
            if key not in told_checks:
                told_checks.add(key)
                narrator.detail(f"check {text}")
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
    return result_task.result(), rolling_back_since


DeploymentHandle = WorkflowHandle[Any, DeploymentResult]


async def deploy(
    stack: DemoStack,
    narrator: Narrator,
    tag: str,
    *,
    timeout: float = 420,
    meanwhile: Callable[[DeploymentHandle], Coroutine[Any, Any, None]] | None = None,
) -> DeploymentResult:
    """Push `tag` and follow its deployment to the end; `meanwhile` runs beside the following, as a user would."""
    digest = await push_manifest(stack.registry.url, sample.REPOSITORY, tag, demo_image(tag))
    narrator.say(f"pushed {stack.registry.host}/{sample.REPOSITORY}:{tag} ({short(digest)})")
    deployment_id = await _current_deployment(stack, tag, timeout=60)
    narrator.say(f"registry → webhook → pipeline started deployment {deployment_id}")
    handle = stack.client.get_workflow_handle(deployment_id, result_type=DeploymentResult)
    beside = asyncio.create_task(meanwhile(handle)) if meanwhile is not None else None
    try:
        result, rolling_back_since = await asyncio.wait_for(_follow(handle, narrator, approve=True), timeout=timeout)
    finally:
        if beside is not None and not beside.done():
            beside.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beside
    narrator.say(
        f"deployment of {tag} ended: {result.outcome.value}" + (f" — {result.reason}" if result.reason else "")
    )
    if rolling_back_since is not None:
        _tell_rollback_times(narrator, result, rolling_back_since)
    return result


def _tell_rollback_times(narrator: Narrator, result: DeploymentResult, since: datetime) -> None:
    """How long the rollback took, and when each region was back: by wave, the newest first, a wave's regions at
    once, so regions of one wave are back at about the same time."""
    back = sorted(
        (r.finished_at, f"{r.environment}/{r.region}")
        for r in result.regions
        if r.phase is RegionPhase.ROLLED_BACK and r.finished_at is not None
    )
    if not back:
        return
    times = ", ".join(f"{name} +{(at - since).total_seconds():.0f}s" for at, name in back)
    narrator.say(f"rolling back {len(back)} region(s) took {(back[-1][0] - since).total_seconds():.0f}s: {times}")


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


@dataclass
class TurnedBad:
    """When the version of the third act was live everywhere and watched, and when its users started failing."""

    watching_until: datetime | None = None
    at: datetime | None = None
    # When the deployment started rolling back: the watch caught it.
    caught_at: datetime | None = None

    @property
    def caught_inside_the_window(self) -> bool:
        return self.watching_until is not None and self.caught_at is not None and self.caught_at <= self.watching_until


def turn_bad_while_watched(
    stack: DemoStack, narrator: Narrator, tag: str, seen: TurnedBad
) -> Callable[[DeploymentHandle], Coroutine[Any, Any, None]]:
    """Once `tag` is live everywhere and watched, wait a while, then make every one of its users get 5xx."""

    async def meanwhile(handle: DeploymentHandle) -> None:
        async def watched() -> bool:
            with contextlib.suppress(RPCError):
                seen.watching_until = (await handle.query(STATUS_QUERY, result_type=DeploymentStatus)).watching_until
            return seen.watching_until is not None

        async def rolling_back() -> bool:
            with contextlib.suppress(RPCError):
                status = await handle.query(STATUS_QUERY, result_type=DeploymentStatus)
                if status.phase is DeploymentPhase.ROLLING_BACK:
                    seen.caught_at = datetime.now(UTC)
            return seen.caught_at is not None

        if not await until(watched, timeout=600) or seen.watching_until is None:
            return
        closes = seen.watching_until
        await asyncio.sleep(sample.TURNS_BAD_AFTER_SECONDS)
        digest = demo_image(tag).digest
        for traffic in (stack.traffic, stack.wave_two_traffic):
            traffic.fail(digest, sample.FAILING_ERROR_RATIO)
        turned_bad = seen.at = datetime.now(UTC)
        narrator.say(
            f"{tag} has been live everywhere for {sample.TURNS_BAD_AFTER_SECONDS}s and passed every check; now it "
            f"answers {sample.FAILING_ERROR_RATIO:.0%} of all its requests with 5xx, in every region (the traffic "
            f"simulators are told so). Rollwright's {sample.WATCH_CHECK_NAME} check watches until {closes:%H:%M:%S}"
        )
        if await until(rolling_back, timeout=sample.WATCH_SECONDS, interval=0.25) and seen.caught_at:
            narrator.say(
                f"the watch caught it {(seen.caught_at - turned_bad).total_seconds():.0f}s after it turned bad, "
                f"{(closes - seen.caught_at).total_seconds():.0f}s before the window would have closed: rolling "
                "back every region it changed"
            )

    return meanwhile
