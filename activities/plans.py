"""The service-plan activity (light queue): what the workers' config says a new deployment of a service runs.

The workers' config file is the one owner of waves, approvals, canary steps and the tag policy. A pipeline
reads the plan here at the moment it starts a deployment; the result is in history (replay stays
deterministic), and a config edit reaches the next deployment, never one in flight. What a push carries (or
a laptop's stale `rollwright.yaml`) cannot change a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ActivityName, ErrorType, ServicePlanInput
from activities.heartbeat import keeps_heartbeating
from rollwright.config.models import RollwrightConfig
from rollwright.domain.deployment import DeploymentLimits, PipelineSettings


def pipeline_settings(config: RollwrightConfig, service: str) -> PipelineSettings:
    """The service's slice of config as of now; KeyError naming the service when config has none."""
    service_config = config.service(service)
    return PipelineSettings(
        plan=config.plan_for(service),
        tag_policy=service_config.tags,
        promote_to=service_config.promote_to,
        pulumi_task_queue=config.temporal.pulumi_task_queue,
        limits=DeploymentLimits.model_validate(config.limits.model_dump()),
    )


class ServicePlanActivities:
    def __init__(self, config: RollwrightConfig) -> None:
        self._config = config

    @activity.defn(name=ActivityName.READ_SERVICE_PLAN)
    @keeps_heartbeating
    async def read_service_plan(self, request: ServicePlanInput) -> PipelineSettings:
        try:
            return pipeline_settings(self._config, request.service)
        except KeyError as exc:
            raise ApplicationError(
                f"{request.service}: not in the workers' config", type=ErrorType.SERVICE_UNKNOWN, non_retryable=True
            ) from exc


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    return [ServicePlanActivities(config).read_service_plan]
