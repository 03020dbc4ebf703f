"""Test doubles registered under the real activity names; they record every call with its timing.

The workflows run on Temporal's real servers; only the activities' side effects are replaced, so
the tests see exactly which activities the workflows scheduled, on which task queue, in which order.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    ActivityName,
    CandidateInfo,
    CheckFreezesInput,
    CommitInput,
    CommitResult,
    ErrorType,
    FreezesInForce,
    HandoffInput,
    HandoffOutcome,
    HandoffResult,
    InspectCandidateInput,
    MarkDigestBadInput,
    ProvisionInput,
    ProvisionPurpose,
    ProvisionResult,
    PublishInput,
    PublishResult,
    RecordRegionStateInput,
    RegionBaseline,
    RolloutActionInput,
    RunChecksInput,
    RunChecksResult,
    ServicePlanInput,
)
from rollwright.domain.deployment import PipelineSettings
from rollwright.domain.identity import RegionTarget
from rollwright.domain.notification import Notification
from rollwright.domain.policy import PolicyVerdict
from rollwright.domain.verification import judge
from rollwright.stacks.k8s_manifests import content_hash

if TYPE_CHECKING:
    # Only a test that checks real freezes hands in a store: the memory bench's worker, which runs these doubles,
    # would otherwise carry the version store's SQL stack that no workflow of it touches.
    from rollwright.versionstore import VersionStore


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Call:
    name: str
    key: str | None  # service/env/region for region activities
    arg: Any
    task_queue: str
    scheduled: datetime  # server time: skips with the time-skipping server
    started: float = field(default_factory=time.monotonic)
    attempt: int = 1
    ended: float | None = None


@dataclass
class Doubles:
    baselines: dict[str, str | None] = field(default_factory=dict)  # region key -> previous digest
    canary_fails: dict[str, str] = field(default_factory=dict)  # region key -> digest whose canary fails there
    hold: dict[str, str] = field(default_factory=dict)  # region key -> digest whose sync there waits until released
    hold_digests: set[str] = field(default_factory=set)  # digests whose syncs wait until released
    bad_digests: set[str] = field(default_factory=set)
    broken_stacks: set[str] = field(default_factory=set)  # region keys whose Pulumi run hits a guardrail
    advisories: dict[str, list[PolicyVerdict]] = field(default_factory=dict)  # region key -> its packs' advice
    slow_baselines: dict[str, float] = field(default_factory=dict)  # region key -> extra seconds to read it
    held_commits: set[str] = field(default_factory=set)  # region keys whose first commit waits for commits_released
    held_rollbacks: set[str] = field(default_factory=set)  # region keys whose rollbacks wait for rollbacks_released
    # What each region's Rollout runs (the digest last synced there), and the regions whose Rollout was aborted while
    # fully promoted: Argo Rollouts then reads Degraded/RolloutAborted, and re-syncing the same template does not
    # heal it (argoproj/argo-rollouts#1624).
    synced: dict[str, str | None] = field(default_factory=dict)
    # activity name -> how many of its first attempts die with their worker (no result, no heartbeat, ever)
    deaths: dict[str, int] = field(default_factory=dict)
    stable_aborted: set[str] = field(default_factory=set)
    plans: dict[str, PipelineSettings] = field(default_factory=dict)  # service -> what the workers' config says
    # What Prometheus would answer for a region key, given how many rounds measured it before (0 the first time).
    measure: Callable[[str, int], float | None] = lambda key, round_: 0.01
    check_rounds: dict[str, int] = field(default_factory=dict)
    # Provisions this picks wait (at most 10 s) until two of them run at once, so a test sees "side by side" for
    # certain instead of racing a 50 ms double; peak_paired says how many of them ever ran at once.
    pair_up: Callable[[ProvisionInput], bool] = lambda arg: False
    peak_paired: int = 0
    step_seconds: float = 0.05
    follow_seconds: float = 0.3
    calls: list[Call] = field(default_factory=list)
    # The memory bench's settings: no simulated latency, and no call kept (its thousands of arguments would count).
    instant: bool = False
    keep_calls: bool = True
    released: asyncio.Event = field(default_factory=asyncio.Event)
    commits_released: asyncio.Event = field(default_factory=asyncio.Event)
    rollbacks_released: asyncio.Event = field(default_factory=asyncio.Event)
    # Freezes come from a real version store when a test gives one; without, nothing is ever frozen.
    freeze_store: VersionStore | None = None
    # What a provision left in the "version store" by content hash, as the real activity does; a commit must name
    # one of these, or it would commit files no Pulumi run rendered (an empty inline set removes the region).
    kept_manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    _shas: itertools.count[int] = field(default_factory=itertools.count)
    _paired_running: int = 0

    # -- reading what happened -----------------------------------------------------------------------

    def named(self, name: ActivityName) -> list[Call]:
        return [call for call in self.calls if call.name == name.value]

    def first(self, name: ActivityName, key: str) -> Call:
        return next(call for call in self.named(name) if call.key == key)

    def keys(self, name: ActivityName) -> list[str]:
        return [call.key for call in self.named(name) if call.key is not None]

    # -- plumbing ------------------------------------------------------------------------------------

    def _begin(self, name: ActivityName, arg: Any, key: str | None = None) -> Call:
        info = activity.info()
        call = Call(name.value, key, arg, info.task_queue, info.current_attempt_scheduled_time, attempt=info.attempt)
        if self.keep_calls:
            self.calls.append(call)
        return call

    async def _die_if_due(self, name: ActivityName) -> None:
        """The worker under this attempt is gone: it never answers or heartbeats, Temporal must notice by itself."""
        if self.deaths.get(name.value, 0) > 0:
            self.deaths[name.value] -= 1
            timeout = activity.info().heartbeat_timeout
            await asyncio.sleep(3 * timeout.total_seconds() if timeout else 30.0)
            raise ApplicationError("this attempt's worker is dead; nobody reads this answer")

    async def _work(self, call: Call, seconds: float) -> None:
        if not self.instant:
            await asyncio.sleep(seconds)
        call.ended = time.monotonic()

    async def _heartbeat_until(self, done: Callable[[], bool], interval: float, at_most: float | None = None) -> None:
        """Wait as a running activity does: heartbeating, which is how a cancel reaches it."""
        deadline = None if at_most is None else time.monotonic() + at_most
        while not done() and (deadline is None or time.monotonic() < deadline):
            activity.heartbeat()
            await asyncio.sleep(interval)

    def light(self) -> list[Callable[..., Any]]:
        return [
            self.read_service_plan,
            self.inspect_candidate,
            self.publish_image,
            self.get_region_baseline,
            self.record_region_state,
            self.mark_digest_bad,
            self.commit_manifests,
            self.sync_and_follow,
            self.abort_rollout,
            self.pause_rollout,
            self.resume_rollout,
            self.run_checks,
            self.notify,
            self._freeze_check(),
        ]

    def _freeze_check(self) -> Callable[..., Any]:
        if self.freeze_store is None:
            return self.check_freezes
        from activities.freezes import FreezeActivities

        return FreezeActivities(self.freeze_store).check_freezes

    def heavy(self) -> list[Callable[..., Any]]:
        return [self.provision_region]

    # -- the activities ------------------------------------------------------------------------------

    @activity.defn(name=ActivityName.READ_SERVICE_PLAN)
    async def read_service_plan(self, arg: ServicePlanInput) -> PipelineSettings:
        self._begin(ActivityName.READ_SERVICE_PLAN, arg)
        if arg.service not in self.plans:
            raise ApplicationError(f"{arg.service}: not in the workers' config", type=ErrorType.SERVICE_UNKNOWN)
        return self.plans[arg.service]

    @activity.defn(name=ActivityName.INSPECT_CANDIDATE)
    async def inspect_candidate(self, arg: InspectCandidateInput) -> CandidateInfo:
        call = self._begin(ActivityName.INSPECT_CANDIDATE, arg)
        await self._work(call, 0.01)
        digest = arg.digest_hint or digest_of(arg.tag)
        bad = digest in self.bad_digests
        return CandidateInfo(tag=arg.tag, digest=digest, marked_bad=bad, bad_reason="canary failed" if bad else None)

    @activity.defn(name=ActivityName.PUBLISH_IMAGE)
    async def publish_image(self, arg: PublishInput) -> PublishResult:
        call = self._begin(ActivityName.PUBLISH_IMAGE, arg)
        await self._work(call, self.step_seconds)
        return PublishResult(digest=arg.digest, tag=arg.tag, image=arg.promote_to or arg.image, promoted=False)

    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    async def get_region_baseline(self, arg: RegionTarget) -> RegionBaseline:
        call = self._begin(ActivityName.GET_REGION_BASELINE, arg, arg.key)
        await self._work(call, 0.01 + self.slow_baselines.get(arg.key, 0.0))
        digest = self.baselines.get(arg.key)
        tag = "v0.9.0" if digest else None
        return RegionBaseline(target=arg, digest=digest, tag=tag, running_digest=digest, running_tag=tag)

    @activity.defn(name=ActivityName.RECORD_REGION_STATE)
    async def record_region_state(self, arg: RecordRegionStateInput) -> None:
        call = self._begin(ActivityName.RECORD_REGION_STATE, arg, arg.target.key)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.MARK_DIGEST_BAD)
    async def mark_digest_bad(self, arg: MarkDigestBadInput) -> None:
        call = self._begin(ActivityName.MARK_DIGEST_BAD, arg)
        self.bad_digests.add(arg.digest)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, arg: ProvisionInput) -> ProvisionResult:
        call = self._begin(ActivityName.PROVISION_REGION, arg, arg.target.key)
        await self._die_if_due(ActivityName.PROVISION_REGION)
        if arg.target.key in self.held_rollbacks and arg.purpose is ProvisionPurpose.ROLLBACK:
            await self._heartbeat_until(self.rollbacks_released.is_set, 0.05)
        if self.pair_up(arg):
            self._paired_running += 1
            self.peak_paired = max(self.peak_paired, self._paired_running)
            try:
                await self._heartbeat_until(lambda: self.peak_paired >= 2, 0.01, at_most=10)
                await self._work(call, self.step_seconds)
            finally:
                self._paired_running -= 1
        else:
            await self._work(call, self.step_seconds)
        if arg.target.key in self.broken_stacks and arg.purpose is ProvisionPurpose.DEPLOY:
            raise ApplicationError(
                "prod would use the staging database", type=ErrorType.GUARDRAIL_VIOLATION, non_retryable=True
            )
        manifests = {} if arg.digest is None else {f"{arg.target.gitops_path}/rollout.yaml": f"image: {arg.digest}\n"}
        rendered = self.keep_manifests(manifests)
        return ProvisionResult(
            target=arg.target,
            content_hash=rendered,
            manifests_ref=rendered,
            advisories=self.advisories.get(arg.target.key, []),
        )

    def keep_manifests(self, manifests: dict[str, str]) -> str:
        key = content_hash(manifests)
        self.kept_manifests[key] = manifests
        return key

    @activity.defn(name=ActivityName.COMMIT_MANIFESTS)
    async def commit_manifests(self, arg: CommitInput) -> CommitResult:
        call = self._begin(ActivityName.COMMIT_MANIFESTS, arg, arg.target.key)
        await self._die_if_due(ActivityName.COMMIT_MANIFESTS)
        if arg.manifests_ref not in self.kept_manifests:
            raise ApplicationError(
                f"commit of {arg.target.key} names no rendered manifests: {arg.manifests_ref}", non_retryable=True
            )
        if arg.target.key in self.held_commits:
            self.held_commits.discard(arg.target.key)
            await self._heartbeat_until(self.commits_released.is_set, 0.05)
        await self._work(call, 0.01)
        return CommitResult(sha=f"{next(self._shas):040x}", created=True)

    @activity.defn(name=ActivityName.SYNC_AND_FOLLOW)
    async def sync_and_follow(self, arg: HandoffInput) -> HandoffResult:
        call = self._begin(ActivityName.SYNC_AND_FOLLOW, arg, arg.target.key)
        key = arg.target.key
        if key in self.stable_aborted and self.synced.get(key, self.baselines.get(key)) == arg.digest:
            call.ended = time.monotonic()
            return HandoffResult(
                outcome=HandoffOutcome.CANARY_FAILED,
                reason="RolloutAborted: the stable Rollout was aborted",
                revision=arg.revision,
            )
        self.synced[key] = arg.digest
        if (arg.digest is not None and self.hold.get(key) == arg.digest) or arg.digest in self.hold_digests:
            await self._heartbeat_until(self.released.is_set, 0.1)
        await self._work(call, self.follow_seconds)
        if arg.digest is not None and self.canary_fails.get(arg.target.key) == arg.digest:
            return HandoffResult(
                outcome=HandoffOutcome.CANARY_FAILED, reason="analysis failed", revision=arg.revision, step_index=1
            )
        return HandoffResult(outcome=HandoffOutcome.HEALTHY, revision=arg.revision, step_index=2, weight=100)

    @activity.defn(name=ActivityName.ABORT_ROLLOUT)
    async def abort_rollout(self, arg: RolloutActionInput) -> None:
        call = self._begin(ActivityName.ABORT_ROLLOUT, arg, arg.target.key)
        key = arg.target.key
        if key not in self.synced:  # never synced by this deployment: the Rollout runs its stable template
            self.stable_aborted.add(key)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.PAUSE_ROLLOUT)
    async def pause_rollout(self, arg: RolloutActionInput) -> None:
        call = self._begin(ActivityName.PAUSE_ROLLOUT, arg, arg.target.key)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.RESUME_ROLLOUT)
    async def resume_rollout(self, arg: RolloutActionInput) -> None:
        call = self._begin(ActivityName.RESUME_ROLLOUT, arg, arg.target.key)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.RUN_CHECKS)
    async def run_checks(self, arg: RunChecksInput) -> RunChecksResult:
        """Prometheus is the double here; the verdicts are the real judgement's."""
        call = self._begin(ActivityName.RUN_CHECKS, arg)
        values = {}
        for region in arg.regions:
            key = region.target.key
            values[key] = self.measure(key, self.check_rounds.get(key, 0))
            self.check_rounds[key] = self.check_rounds.get(key, 0) + 1
        results = []
        for check in arg.checks:
            baselines = {r.target.region: values[r.target.key] for r in arg.regions if not r.changed}
            for region in arg.regions:
                if region.changed:
                    target = region.target
                    results.append(judge(check, target.environment, target.region, values[target.key], baselines))
        await self._work(call, 0.01)
        return RunChecksResult(at=call.scheduled, results=results)

    @activity.defn(name=ActivityName.NOTIFY)
    async def notify(self, arg: Notification) -> None:
        call = self._begin(ActivityName.NOTIFY, arg)
        await self._work(call, 0.01)

    @activity.defn(name=ActivityName.CHECK_FREEZES)
    async def check_freezes(self, arg: CheckFreezesInput) -> FreezesInForce:
        self._begin(ActivityName.CHECK_FREEZES, arg)
        return FreezesInForce()
