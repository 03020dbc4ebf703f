"""status: per lane (one view per environment, in plan order) what is live in each region, what deploys and in
which phase, what waits its turn, whether the lane is held, and which promotion is due."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio.client import Client

from rollwright.config.models import RollwrightConfig
from rollwright.config.secrets import version_store_url
from rollwright.control.acting import Acting
from rollwright.control.deployments import deployment_status
from rollwright.control.errors import ControlError, Forbidden, one_line
from rollwright.control.freezes import active_freezes
from rollwright.control.lanes import Lane, lane_status
from rollwright.control.models import Action
from rollwright.control.scope import plan_of
from rollwright.domain.deployment import DeploymentStatus, RegionPhase, RegionStatus
from rollwright.domain.freeze import Freeze
from rollwright.domain.lane import LaneStatus, lane_workflow_id
from rollwright.domain.plan import EnvironmentPlan, ServicePlan
from rollwright.versionstore import VersionStore, VersionStoreError


class RegionLive(BaseModel):
    """One region of a lane: the version live there, and what a running deployment is doing to it."""

    region: str
    wave: int
    tag: str | None = None
    digest: str | None = None
    # Set while a running deployment has reached the region and not finished with it.
    phase: RegionPhase | None = None
    deploying: str | None = None


class PromotionDue(BaseModel):
    """How the next version reaches this lane: from `source` on its timer (tag, due_at), or only by hand."""

    source: str
    manual: bool = False
    tag: str | None = None
    digest: str | None = None
    due_at: datetime | None = None


class LaneView(BaseModel):
    environment: str
    workflow_id: str
    started: bool
    lane: LaneStatus | None = None
    deployment: DeploymentStatus | None = None
    regions: list[RegionLive] = Field(default_factory=list)
    promotion_due: PromotionDue | None = None
    error: str | None = None


class ServiceStatus(BaseModel):
    service: str
    lanes: list[LaneView] = Field(default_factory=list)
    # The freezes in force that apply to this service (in some environment or all).
    freezes: list[Freeze] = Field(default_factory=list)
    freezes_error: str | None = None


def regions_of(env: EnvironmentPlan, lane: LaneStatus | None, deployment: DeploymentStatus | None) -> list[RegionLive]:
    """Each region of the plan: the lane's live version unless the running deployment has made it live with its
    own; a region the deployment is still working on says so."""
    touched: dict[str, RegionStatus] = {}
    if deployment is not None:
        touched = {r.region: r for r in deployment.regions if r.environment == env.name}
    live = lane.live if lane is not None else None
    rows = []
    for wave, regions in enumerate(env.waves):
        for name in regions:
            row = RegionLive(
                region=name, wave=wave, tag=live.tag if live else None, digest=live.digest if live else None
            )
            state = touched.get(name)
            if state is not None and deployment is not None:
                if state.phase is RegionPhase.LIVE and state.digest is not None:
                    row.tag, row.digest = deployment.tag, state.digest
                elif state.phase not in (RegionPhase.PENDING, RegionPhase.ROLLED_BACK):
                    row.phase, row.deploying = state.phase, deployment.tag
            rows.append(row)
    return rows


def promotion_due(env: EnvironmentPlan, by_env: dict[str, Lane]) -> PromotionDue | None:
    """What the upstream lane will offer this one next (its earliest pending promotion naming this lane)."""
    rule = env.promote
    if rule is None:
        return None
    if rule.manual:
        return PromotionDue(source=rule.source, manual=True)
    upstream = by_env.get(rule.source)
    status = upstream.status if upstream is not None else None
    pending = [p for p in (status.promotions if status else []) if env.name in p.to]
    if not pending:
        return PromotionDue(source=rule.source)
    first = min(pending, key=lambda promotion: promotion.due_at)
    return PromotionDue(source=rule.source, tag=first.tag, digest=first.digest, due_at=first.due_at)


async def service_status(client: Client, plan: ServicePlan) -> ServiceStatus:
    names = [env.name for env in plan.environments]
    found: list[Lane] = []
    errors: dict[str, str] = {}
    for name in names:
        try:
            lane = await lane_status(client, plan.service, name)
        except ControlError as exc:
            errors[name] = str(exc)
            lane = Lane(name, lane_workflow_id(plan.service, name), None)
        found.append(lane)
    by_env = {lane.environment: lane for lane in found}
    views = []
    for env, lane in zip(plan.environments, found, strict=True):
        view = LaneView(
            environment=env.name,
            workflow_id=lane.workflow_id,
            started=lane.status is not None,
            lane=lane.status,
            error=errors.get(env.name),
            promotion_due=promotion_due(env, by_env),
        )
        if lane.status is not None and lane.status.current_workflow_id is not None:
            try:
                view.deployment = await deployment_status(client, lane.status.current_workflow_id)
            except ControlError as exc:
                view.error = str(exc)
        view.regions = regions_of(env, lane.status, view.deployment)
        views.append(view)
    return ServiceStatus(service=plan.service, lanes=views)


async def status(
    client: Client, config: RollwrightConfig, acting: Acting, service: str | None = None
) -> list[ServiceStatus]:
    """One service's status, or every configured service's the operator may see (a role in one of its
    environments); a lane that could not be read carries its error."""
    if service is not None:
        plan = plan_of(config, service)
        _may_see(acting, plan)
        return await _with_freezes(config, [await service_status(client, plan)])
    visible = []
    refusal: Forbidden | None = None
    for item in config.services:
        plan = config.plan_for(item.name)
        try:
            _may_see(acting, plan)
        except Forbidden as exc:
            refusal = exc
            continue
        visible.append(plan)
    if not visible and refusal is not None:
        raise refusal
    return await _with_freezes(config, [await service_status(client, plan) for plan in visible])


async def _with_freezes(config: RollwrightConfig, statuses: list[ServiceStatus]) -> list[ServiceStatus]:
    """Each service's freezes in force, read once from the version store; a store that cannot answer is said so."""
    try:
        with VersionStore(version_store_url(config.version_store)) as store:
            found = await active_freezes(store)
    except VersionStoreError as exc:
        for item in statuses:
            item.freezes_error = one_line(exc)
        return statuses
    for item in statuses:
        item.freezes = [f for f in found if f.scope.all_services or item.service in f.scope.services]
    return statuses


def _may_see(acting: Acting, plan: ServicePlan) -> None:
    refusal = Forbidden(f"no role allows reading the status of {plan.service}")
    for env in plan.environments:
        try:
            acting.authorize(Action.STATUS, env.name)
        except Forbidden as exc:
            refusal = exc
            continue
        return
    raise refusal
