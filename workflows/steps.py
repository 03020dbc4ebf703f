"""Every activity a deployment calls, by name, with its timeouts, retries and task queue in one place.

Activities are called by `ActivityName` rather than by function so the workflow never imports activity
code (no I/O libraries in the sandbox) and tests can register doubles under the same names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.contracts import (
        ActivityName,
        CandidateInfo,
        CommitInput,
        CommitResult,
        ErrorType,
        HandoffInput,
        HandoffResult,
        InspectCandidateInput,
        MarkDigestBadInput,
        ProvisionInput,
        ProvisionResult,
        PublishInput,
        PublishResult,
        RecordRegionStateInput,
        RegionBaseline,
        RolloutActionInput,
    )
    from rollwright.domain.deployment import DeploymentLimits
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.notification import Notification

ResultT = TypeVar("ResultT", bound=BaseModel)

# Retrying cannot fix these (bad config, missing image, guardrail hit): fail at once and let the workflow decide.
NON_RETRYABLE = [error.value for error in ErrorType]


class Steps:
    """Typed wrappers over `workflow.execute_activity`, one per activity name."""

    def __init__(self, limits: DeploymentLimits, pulumi_task_queue: str) -> None:
        self._limits = limits
        self._pulumi_task_queue = pulumi_task_queue

    def _retry(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=self._limits.retry_initial_interval,
            backoff_coefficient=2.0,
            maximum_interval=self._limits.retry_max_interval,
            maximum_attempts=self._limits.max_attempts,
            non_retryable_error_types=NON_RETRYABLE,
        )

    async def _call(
        self,
        name: ActivityName,
        arg: BaseModel,
        result_type: type[ResultT] | None,
        summary: str,
        *,
        limit: timedelta | None = None,
        heartbeat: timedelta | None = None,
        task_queue: str | None = None,
        cancellation: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    ) -> Any:
        return await workflow.execute_activity(
            name.value,
            arg,
            result_type=result_type,
            task_queue=task_queue,
            start_to_close_timeout=limit or self._limits.light_timeout,
            heartbeat_timeout=heartbeat,
            retry_policy=self._retry(),
            cancellation_type=cancellation,
            summary=summary[:200],
        )

    async def inspect_candidate(self, arg: InspectCandidateInput) -> CandidateInfo:
        result: CandidateInfo = await self._call(
            ActivityName.INSPECT_CANDIDATE, arg, CandidateInfo, f"inspect {arg.service}:{arg.tag}"
        )
        return result

    async def publish(self, arg: PublishInput) -> PublishResult:
        result: PublishResult = await self._call(
            ActivityName.PUBLISH_IMAGE,
            arg,
            PublishResult,
            f"publish {arg.service}:{arg.tag}",
            limit=self._limits.publish_timeout,
        )
        return result

    async def baseline(self, target: RegionTarget) -> RegionBaseline:
        result: RegionBaseline = await self._call(
            ActivityName.GET_REGION_BASELINE, target, RegionBaseline, f"read what runs in {target.key}"
        )
        return result

    async def record(self, arg: RecordRegionStateInput) -> None:
        await self._call(
            ActivityName.RECORD_REGION_STATE,
            arg,
            None,
            f"record {arg.target.key} {arg.state.value} ({arg.tag})",
        )

    async def provision(self, arg: ProvisionInput, summary: str) -> ProvisionResult:
        # Wait for the Pulumi process to really stop before a rollback touches the same stack.
        result: ProvisionResult = await self._call(
            ActivityName.PROVISION_REGION,
            arg,
            ProvisionResult,
            summary,
            limit=self._limits.provision_timeout,
            heartbeat=self._limits.provision_heartbeat,
            task_queue=self._pulumi_task_queue,
            cancellation=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        return result

    async def commit(self, arg: CommitInput, summary: str) -> CommitResult:
        result: CommitResult = await self._call(ActivityName.COMMIT_MANIFESTS, arg, CommitResult, summary)
        return result

    async def handoff(self, arg: HandoffInput, summary: str) -> HandoffResult:
        deadline = timedelta(seconds=arg.progress_deadline_seconds) + self._limits.handoff_margin
        result: HandoffResult = await self._call(
            ActivityName.SYNC_AND_FOLLOW,
            arg,
            HandoffResult,
            summary,
            limit=deadline,
            heartbeat=self._limits.handoff_heartbeat,
        )
        return result

    async def abort_rollout(self, arg: RolloutActionInput) -> None:
        await self._call(ActivityName.ABORT_ROLLOUT, arg, None, f"abort the canary in {arg.target.key}")

    async def mark_bad(self, arg: MarkDigestBadInput) -> None:
        await self._call(ActivityName.MARK_DIGEST_BAD, arg, None, f"mark {arg.digest[:19]} bad")

    async def notify(self, arg: Notification) -> None:
        await self._call(ActivityName.NOTIFY, arg, None, f"notify {arg.kind.value}")
