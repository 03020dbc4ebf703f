"""Every activity a workflow calls, by reference, with its timeouts, retries and task queue in one table.

Workflows call activities through their declarations (`activities.signatures.publish_image`, …), so an argument or
result of the wrong type is a mypy error, not a surprise at run time. The declarations are passed through the
sandbox (as the Temporal SDK advises) and import only the contracts: a workflow takes the name and the signature,
never the implementation's clients. Workers and test doubles register under the same names
(`activities.contracts.ActivityName`).

A step's worst case is its budget (schedule-to-close) below: Temporal retries it with capped backoff until
then, whatever the attempt count, unless the step itself says retrying cannot help (a non-retryable error).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities import signatures
    from activities.contracts import (
        CandidateInfo,
        CheckFreezesInput,
        CommitInput,
        CommitResult,
        ErrorType,
        FreezesInForce,
        HandoffInput,
        HandoffResult,
        InspectCandidateInput,
        MarkDigestBadInput,
        OfferPromotionInput,
        ProvisionInput,
        ProvisionResult,
        PublishInput,
        PublishResult,
        RecordRegionStateInput,
        RegionBaseline,
        RolloutActionInput,
        RunChecksInput,
        RunChecksResult,
        ServicePlanInput,
        TellLanesBadInput,
        TellLanesBadResult,
    )
    from rollwright.domain.deployment import DeploymentLimits, PipelineSettings
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.lane import LaneAction
    from rollwright.domain.notification import Notification
    from rollwright.domain.preview import PreviewResult

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")

# Retrying cannot fix these (bad config, missing image, guardrail hit): fail at once and let the workflow decide.
NON_RETRYABLE = [error.value for error in ErrorType]


class Queue(Enum):
    """Light activities (HTTP, git, database) share the workflows' queue; Pulumi runs have their own."""

    LIGHT = "light"
    PULUMI = "pulumi"


@dataclass(frozen=True)
class Options:
    """How one activity is scheduled; each field names the DeploymentLimits field that bounds it.

    `timeout` bounds one attempt, `budget` all attempts (schedule-to-close). Every activity heartbeats within
    `heartbeat_timeout`, so a dead worker costs at most that long before the retry starts elsewhere.
    """

    timeout: str
    budget: str
    queue: Queue = Queue.LIGHT
    # Wait for a cancelled Pulumi process to really stop before a rollback touches the same stack.
    cancellation: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL


_LIGHT = Options("light_timeout", "light_budget")

# The longest each step may take with the default DeploymentLimits, and why, after each entry.
OPTIONS: dict[Callable[..., Any], Options] = {
    # Reads the worker's loaded config: instant; 15 min only if no worker is there to take it.
    signatures.read_service_plan: _LIGHT,
    # Two registry calls and one store read (client timeouts ~30 s each); retried while the registry is down.
    signatures.inspect_candidate: _LIGHT,
    # Re-resolve, maybe copy every blob to the central registry: 10 min an attempt, 45 min in all.
    signatures.publish_image: Options("publish_timeout", "publish_budget"),
    # One store read or write each (seconds); 15 min covers a database restart.
    signatures.get_region_baseline: _LIGHT,
    signatures.record_region_state: _LIGHT,
    signatures.mark_digest_bad: _LIGHT,
    # Fetch, commit, push with bounded re-applies after a rejected push (git timeouts inside): 2 min an attempt.
    signatures.commit_manifests: _LIGHT,
    # One Argo CD action each.
    signatures.abort_rollout: _LIGHT,
    signatures.pause_rollout: _LIGHT,
    signatures.resume_rollout: _LIGHT,
    # One instant query per check and region (client timeouts ~10 s); a Prometheus down for the whole budget fails
    # the check, since a version nobody can measure is not verified.
    signatures.run_checks: _LIGHT,
    # One webhook POST; best effort, the workflow goes on if it fails.
    signatures.notify: _LIGHT,
    # One store write, or one Temporal signal(-with-start) per lane: seconds; 15 min covers an outage.
    signatures.record_lane_action: _LIGHT,
    signatures.offer_promotion: _LIGHT,
    signatures.tell_lanes_bad: _LIGHT,
    # One store read: seconds; 15 min covers a database restart (the deployment waits meanwhile, never skips it).
    signatures.check_freezes: _LIGHT,
    # One Pulumi preview + up in a child process: 30 min an attempt; 2 h in all for workers dying under it.
    signatures.provision_region: Options(
        "provision_timeout",
        "provision_budget",
        queue=Queue.PULUMI,
        cancellation=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    ),
    # Like provision_region, without the `up`: nothing changes, so nothing to wait for on cancel.
    signatures.preview_region: Options("provision_timeout", "provision_budget", queue=Queue.PULUMI),
    # The canary's progress deadline + handoff_margin an attempt (35 min by default; a retry gets only what is left
    # of the deadline), and deadline + handoff_budget_margin in all: see Steps.handoff.
    signatures.sync_and_follow: Options("handoff_margin", "handoff_budget_margin"),
}


class Steps:
    """Typed calls of each activity, scheduled as the table says."""

    def __init__(self, limits: DeploymentLimits, pulumi_task_queue: str) -> None:
        self._limits = limits
        self._pulumi_task_queue = pulumi_task_queue
        # Region key → the policy packs' advisory verdicts of its last provision in this run.
        self._advisories: dict[str, list[str]] = {}

    def _retry(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=self._limits.retry_initial_interval,
            backoff_coefficient=2.0,
            maximum_interval=self._limits.retry_max_interval,
            maximum_attempts=self._limits.max_attempts,
            non_retryable_error_types=NON_RETRYABLE,
        )

    def _limit(self, field: str) -> timedelta:
        value = getattr(self._limits, field)
        assert isinstance(value, timedelta)
        return value

    async def _call(
        self,
        declared: Callable[[ArgT], Awaitable[ResultT]],
        arg: ArgT,
        summary: str,
        *,
        extra_time: timedelta = timedelta(0),
    ) -> ResultT:
        options = OPTIONS[declared]
        return await workflow.execute_activity(
            declared,
            arg,
            task_queue=self._pulumi_task_queue if options.queue is Queue.PULUMI else None,
            start_to_close_timeout=self._limit(options.timeout) + extra_time,
            schedule_to_close_timeout=self._limit(options.budget) + extra_time,
            heartbeat_timeout=self._limit("heartbeat_timeout"),
            retry_policy=self._retry(),
            cancellation_type=options.cancellation,
            summary=summary[:200],
        )

    async def read_service_plan(self, service: str) -> PipelineSettings:
        return await self._call(
            signatures.read_service_plan,
            ServicePlanInput(service=service),
            f"read the plan of {service} from the workers' config",
        )

    async def inspect_candidate(self, arg: InspectCandidateInput) -> CandidateInfo:
        return await self._call(
            signatures.inspect_candidate,
            arg,
            f"inspect {arg.service}:{arg.tag}",
        )

    async def publish(self, arg: PublishInput) -> PublishResult:
        return await self._call(signatures.publish_image, arg, f"publish {arg.service}:{arg.tag}")

    async def baseline(self, target: RegionTarget) -> RegionBaseline:
        return await self._call(
            signatures.get_region_baseline,
            target,
            f"read what runs in {target.key}",
        )

    async def record(self, arg: RecordRegionStateInput) -> None:
        await self._call(
            signatures.record_region_state,
            arg,
            f"record {arg.target.key} {arg.state.value} ({arg.tag})",
        )

    async def provision(self, arg: ProvisionInput, summary: str) -> ProvisionResult:
        result = await self._call(signatures.provision_region, arg, summary)
        self._advisories[arg.target.key] = [f"{arg.target.key}: {verdict}" for verdict in result.advisories]
        return result

    async def preview(self, arg: ProvisionInput, summary: str) -> PreviewResult:
        return await self._call(signatures.preview_region, arg, summary)

    async def commit(self, arg: CommitInput, summary: str) -> CommitResult:
        return await self._call(signatures.commit_manifests, arg, summary)

    async def handoff(self, arg: HandoffInput, summary: str) -> HandoffResult:
        # The follow lasts as long as the canary may (its progress deadline), plus the table's margin.
        return await self._call(
            signatures.sync_and_follow,
            arg,
            summary,
            extra_time=timedelta(seconds=arg.progress_deadline_seconds),
        )

    async def abort_rollout(self, arg: RolloutActionInput) -> None:
        await self._call(signatures.abort_rollout, arg, f"abort the canary in {arg.target.key}")

    async def pause_rollout(self, arg: RolloutActionInput) -> None:
        await self._call(signatures.pause_rollout, arg, f"pause the canary in {arg.target.key}")

    async def resume_rollout(self, arg: RolloutActionInput) -> None:
        await self._call(signatures.resume_rollout, arg, f"resume the canary in {arg.target.key}")

    async def run_checks(self, arg: RunChecksInput, summary: str) -> RunChecksResult:
        return await self._call(signatures.run_checks, arg, summary)

    async def mark_bad(self, arg: MarkDigestBadInput) -> None:
        await self._call(signatures.mark_digest_bad, arg, f"mark {arg.digest[:19]} bad")

    async def notify(self, arg: Notification) -> None:
        # Whoever notifies, on-call also hears what the policy packs advised on the regions provisioned so far.
        advisories = [line for lines in self._advisories.values() for line in lines]
        if advisories and not arg.advisories:
            arg = arg.model_copy(update={"advisories": advisories})
        await self._call(signatures.notify, arg, f"notify {arg.kind.value}")

    async def record_lane_action(self, arg: LaneAction) -> None:
        await self._call(
            signatures.record_lane_action, arg, f"audit {arg.action.value} of {arg.service}/{arg.environment}"
        )

    async def offer_promotion(self, arg: OfferPromotionInput) -> None:
        await self._call(signatures.offer_promotion, arg, f"offer {arg.offer.tag} to {arg.service}/{arg.environment}")

    async def tell_lanes_bad(self, arg: TellLanesBadInput) -> TellLanesBadResult:
        return await self._call(
            signatures.tell_lanes_bad, arg, f"tell {', '.join(arg.environments)} that {arg.bad.digest[:19]} is bad"
        )

    async def check_freezes(self, arg: CheckFreezesInput) -> FreezesInForce:
        return await self._call(signatures.check_freezes, arg, f"check the freezes of {arg.service}/{arg.environment}")
