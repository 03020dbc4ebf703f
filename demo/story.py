"""The demo's acts: push a version, watch it go through the lanes (staging, then prod) region by region, and say
what happened."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
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
    DeploymentKind,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentResult,
    DeploymentStatus,
    RegionPhase,
)
from rollwright.domain.digest import short
from rollwright.domain.lane import LaneStatus, lane_workflow_id

DEMO_ACTOR = "rollwright-demo"


@functools.cache
def demo_image(tag: str) -> BuiltManifest:
    """The sample image for `tag`, built once, so the digest whose traffic is made to fail is the one pushed."""
    return build_image(f"{sample.SERVICE}-{tag}", created=datetime.now(UTC))


async def _lane_deployment(
    stack: DemoStack, env: str, kinds: frozenset[DeploymentKind], followed: set[str], *, tag: str | None, timeout: float
) -> str:
    """Wait for the lane `env` to start a deployment of one of `kinds` (of `tag`, if given) that the demo has not
    followed yet; return its workflow id."""
    lane = stack.client.get_workflow_handle(lane_workflow_id(sample.SERVICE, env))
    found: list[str] = []

    async def started() -> bool:
        try:
            status = await lane.query(STATUS_QUERY, result_type=LaneStatus)
        except RPCError:
            return False  # the webhook (or the lane before) has not signalled the lane yet
        for deployment in status.recent:
            if deployment.workflow_id in followed or deployment.kind not in kinds:
                continue
            if tag is None or deployment.tag == tag:
                found.append(deployment.workflow_id)
                return True
        return False

    if not await until(started, timeout=timeout):
        raise TimeoutError(
            f"no deployment of {tag or 'a rollback'} started in {env} within {timeout:.0f}s: see "
            f"{stack.workdir / 'logs'}/webhook.log and worker.log"
        )
    followed.add(found[0])
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
_FORWARD = frozenset({DeploymentKind.ROLL_FORWARD})
_BAD_ELSEWHERE = frozenset({DeploymentKind.BAD_ELSEWHERE})


@dataclass
class Rollout:
    """One version through the lanes: each lane's deployment of it, and the rollbacks the others did when it went
    bad in a later one."""

    tag: str
    forward: dict[str, DeploymentResult] = field(default_factory=dict)
    rollbacks: dict[str, DeploymentResult] = field(default_factory=dict)

    @property
    def last(self) -> DeploymentResult:
        """The deployment in the last lane it reached: how the version's rollout ended."""
        return list(self.forward.values())[-1]

    @property
    def outcome(self) -> DeploymentOutcome:
        return self.last.outcome

    @property
    def reason(self) -> str | None:
        return self.last.reason

    def rolled_back_regions(self) -> list[str]:
        """Every region that went back to the earlier version: by the failed deployment, or by its lane's
        rollback after the bad mark."""
        regions = [f"{r.environment}/{r.region}" for r in self.last.regions if r.phase is RegionPhase.ROLLED_BACK]
        for result in self.rollbacks.values():
            if result.outcome is DeploymentOutcome.SUCCEEDED:
                regions += [f"{r.environment}/{r.region}" for r in result.regions if r.phase is RegionPhase.ROLLED_BACK]
        return regions


async def deploy(
    stack: DemoStack,
    narrator: Narrator,
    tag: str,
    *,
    timeout: float = 420,
    meanwhile: Callable[[DeploymentHandle], Coroutine[Any, Any, None]] | None = None,
) -> Rollout:
    """Push `tag` and follow it lane by lane to the end; `meanwhile` runs beside each lane's deployment, as a user
    would. When it fails in a later lane, follow the earlier lanes rolling it back too (the bad mark is
    global)."""
    digest = await push_manifest(stack.registry.url, sample.REPOSITORY, tag, demo_image(tag))
    narrator.say(f"pushed {stack.registry.host}/{sample.REPOSITORY}:{tag} ({short(digest)})")
    rollout = Rollout(tag=tag)
    lanes = sample.LANES
    for index, env in enumerate(lanes):
        deployment_id = await _lane_deployment(stack, env, _FORWARD, stack.followed, tag=tag, timeout=60)
        came = "registry → webhook →" if index == 0 else f"{lanes[index - 1]} vouched for it →"
        narrator.say(f"{came} {env}'s lane started deployment {deployment_id}")
        result = await _follow_deployment(stack, narrator, deployment_id, timeout, meanwhile)
        rollout.forward[env] = result
        if result.outcome is not DeploymentOutcome.SUCCEEDED:
            break
    undone = rollout.last.outcome in (DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.ABORTED)
    if undone:
        for env in lanes[: len(rollout.forward) - 1]:
            narrator.say(f"{tag} is marked bad everywhere: {env}'s lane, which runs it, rolls it back by its rule")
            rollback_id = await _lane_deployment(stack, env, _BAD_ELSEWHERE, stack.followed, tag=None, timeout=60)
            rollout.rollbacks[env] = await _follow_deployment(stack, narrator, rollback_id, timeout, None)
    return rollout


async def _follow_deployment(
    stack: DemoStack,
    narrator: Narrator,
    deployment_id: str,
    timeout: float,
    meanwhile: Callable[[DeploymentHandle], Coroutine[Any, Any, None]] | None,
) -> DeploymentResult:
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
        f"deployment {deployment_id} ended: {result.outcome.value}" + (f" — {result.reason}" if result.reason else "")
    )
    if rolling_back_since is not None:
        _tell_rollback_times(narrator, result, rolling_back_since)
    return result


def _tell_rollback_times(narrator: Narrator, result: DeploymentResult, since: datetime) -> None:
    """How long the rollback took, and when each region was back: by wave, the newest first, a wave's regions at
    once, so regions of one wave are back at about the same time."""
    back = back_times([result], since)
    if not back:
        return
    narrator.say(f"rolling back {len(back)} region(s) took {back[-1][0]:.0f}s: {listed(back)}")


def back_times(results: Iterable[DeploymentResult], since: datetime) -> list[tuple[float, str]]:
    """Seconds after `since` each region rolled back by these deployments was back, soonest first."""
    return sorted(
        ((r.finished_at - since).total_seconds(), f"{r.environment}/{r.region}")
        for result in results
        for r in result.regions
        if r.phase is RegionPhase.ROLLED_BACK and r.finished_at is not None
    )


def listed(back: Iterable[tuple[float, str]], decimals: int = 0) -> str:
    """`back_times` as one line: `staging/a +2s, prod/b +5s`."""
    return ", ".join(f"{name} +{seconds:.{decimals}f}s" for seconds, name in back)


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
