"""Which service and environment an order names, checked against the config before anything is asked of Temporal."""

from __future__ import annotations

from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.control.errors import NotFound
from rollwright.domain.plan import ServicePlan


def service_of(config: RollwrightConfig, name: str) -> ServiceConfig:
    try:
        return config.service(name)
    except KeyError:
        known = ", ".join(service.name for service in config.services)
        raise NotFound(f"unknown service {name[:200]!r} (configured: {known})") from None


def plan_of(config: RollwrightConfig, name: str) -> ServicePlan:
    return config.plan_for(service_of(config, name).name)


def environment_of(plan: ServicePlan, name: str) -> str:
    try:
        return plan.environment(name).name
    except KeyError:
        known = ", ".join(env.name for env in plan.environments)
        raise NotFound(f"{plan.service} has no environment {name[:200]!r} (configured: {known})") from None
