"""Typed models for the config file. Secrets are never values here: only the names of env vars or files."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rollwright.domain.deployment import DEFAULT_PULUMI_TASK_QUEUE, DEFAULT_TASK_QUEUE, DeploymentLimits
from rollwright.domain.durations import Duration
from rollwright.domain.identity import NAME_PATTERN
from rollwright.domain.plan import (
    ApprovalDefault,
    ApprovalPlan,
    CanaryPlan,
    EnvironmentPlan,
    FirstDeployRollback,
    OnBadElsewhere,
    PromotePlan,
    ServicePlan,
)
from rollwright.domain.verification import OnFailure, VerificationCheck, VerificationPlan
from rollwright.domain.windows import DenyWindow, DeployWindow
from rollwright.secrets import SecretRef

# Environments that count as production unless their config says otherwise.
PRODUCTION_NAMES = frozenset({"prod", "production"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PulumiProgramConfig(_Strict):
    program: str = Field(
        default="rollwright.stacks.web_service:program",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="module:function of the Pulumi program",
    )
    config: dict[str, Any] = Field(default_factory=dict)


class VerificationOverride(_Strict):
    """One environment's changes to the service's verification; a key left out keeps the service's value."""

    checks: list[VerificationCheck] | None = None
    interval: Duration | None = None
    initial_delay: Duration | None = None
    watch: Duration | None = None
    on_failure: OnFailure | None = None

    def over(self, service: VerificationPlan) -> VerificationPlan:
        changes = self.model_dump(exclude_unset=True)
        return VerificationPlan.model_validate({**service.model_dump(), **changes})


class PromoteConfig(_Strict):
    """`promote: {from: staging, after: 30m}`: versions live and healthy in `from` for `after` come here."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from", pattern=NAME_PATTERN)
    after: Duration = timedelta(0)
    manual: bool = False


class ApprovalPolicyConfig(_Strict):
    """`approval_policy: {approvers: 2, groups: [release-managers], not_by_initiator: true}`."""

    approvers: int = Field(default=1, ge=1, description="distinct approvers needed")
    groups: list[str] = Field(default_factory=list, description="groups allowed to approve (empty: anyone)")
    not_by_initiator: bool = Field(default=False, description="the pusher or starter may not approve")


class EnvironmentConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    waves: list[list[str]] = Field(min_length=1)
    bake: Duration | None = None
    approval: Literal["none", "required"] = "none"
    approval_timeout: Duration = timedelta(hours=4)
    approval_default: ApprovalDefault = ApprovalDefault.STOP
    approval_policy: ApprovalPolicyConfig = Field(default_factory=lambda: ApprovalPolicyConfig())
    # Weekly open windows (none: always open) and deny windows (holidays, release freezes) for this environment.
    windows: list[DeployWindow] = Field(default_factory=list)
    deny_windows: list[DenyWindow] = Field(default_factory=list)
    # Groups (from the control API's verified token) whose `--break-glass` goes through a closed window.
    break_glass_groups: list[str] = Field(default_factory=list)
    # Refuse controls for this environment that did not come verified through the control API.
    require_verified: bool = False
    # Overrides merged over the service's pulumi.config for this environment only.
    config: dict[str, Any] = Field(default_factory=dict)
    # The Prometheus the Rollouts controller of this environment's regions asks for canary checks.
    prometheus: str | None = Field(default=None, description="e.g. http://prometheus.monitoring:9090")
    region_prometheus: dict[str, str] = Field(default_factory=dict, description="region -> its own Prometheus")
    verification: VerificationOverride = VerificationOverride()
    # Later environments only (default: from the one before, as soon as it is live there). `manual`: only
    # `rollwright promote`.
    promote: Literal["manual"] | PromoteConfig | None = None
    on_bad_elsewhere: OnBadElsewhere = OnBadElsewhere.ROLLBACK
    # Production's policies apply (Rollouts with >= 2 replicas and an analysed canary); unset: named prod or production.
    production: bool | None = None

    @property
    def is_production(self) -> bool:
        return self.production if self.production is not None else self.name in PRODUCTION_NAMES

    @model_validator(mode="after")
    def _region_prometheus_names_regions(self) -> EnvironmentConfig:
        regions = {region for wave in self.waves for region in wave}
        unknown = sorted(set(self.region_prometheus) - regions)
        if unknown:
            raise ValueError(f"region_prometheus names region(s) not in any wave: {', '.join(unknown)}")
        return self

    @field_validator("waves")
    @classmethod
    def _waves_name_regions(cls, waves: list[list[str]]) -> list[list[str]]:
        seen: set[str] = set()
        for index, wave in enumerate(waves):
            if not wave:
                raise ValueError(f"wave {index + 1} names no region")
            for region in wave:
                if not re.match(NAME_PATTERN, region):
                    raise ValueError(f"region {region!r} is not a valid name (lowercase letters, digits, '-')")
                if region in seen:
                    raise ValueError(f"region {region!r} appears in more than one wave")
                seen.add(region)
        return waves


class ServiceConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    image: str = Field(min_length=1, description="repository the registry pushes, e.g. registry.local:5000/shop/api")
    tags: str = Field(default=r".*", description="regular expression a tag must match to be deployed")
    pulumi: PulumiProgramConfig = PulumiProgramConfig()
    canary: CanaryPlan = CanaryPlan()
    environments: list[EnvironmentConfig] = Field(min_length=1)
    promote_to: str | None = Field(default=None, description="central repository to copy the image into")
    first_deploy_rollback: FirstDeployRollback = FirstDeployRollback.REMOVE
    # Checks Rollwright itself runs against live regions: during bakes, the watch after the last wave, and
    # compared with the regions not changed yet.
    verification: VerificationPlan = VerificationPlan()

    @model_validator(mode="after")
    def _checked_environments_have_prometheus(self) -> ServiceConfig:
        for env in self.environments:
            plan = env.verification.over(self.verification)
            if not plan.checks:
                continue
            regions = [region for wave in env.waves for region in wave]
            missing = [region for region in regions if region not in env.region_prometheus and env.prometheus is None]
            if missing:
                raise ValueError(
                    f"environment {env.name!r} has verification checks but no Prometheus for "
                    f"{', '.join(missing)}: set `prometheus` (or `region_prometheus`)"
                )
        return self

    @field_validator("tags")
    @classmethod
    def _tags_is_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("environments")
    @classmethod
    def _unique_environments(cls, envs: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
        names = [env.name for env in envs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"environment(s) listed twice: {', '.join(duplicates)}")
        return envs

    @model_validator(mode="after")
    def _promotions_come_from_earlier_lanes(self) -> ServiceConfig:
        first, *later = self.environments
        if first.promote is not None:
            raise ValueError(
                f"environment {first.name!r} is the first lane: it takes pushes and cannot promote from another"
            )
        earlier = [first.name]
        for env in later:
            if isinstance(env.promote, PromoteConfig) and env.promote.source not in earlier:
                raise ValueError(
                    f"environment {env.name!r} promotes from {env.promote.source!r}, which is not an earlier "
                    f"environment ({', '.join(earlier)})"
                )
            earlier.append(env.name)
        return self

    def _promote_plan(self, index: int) -> PromotePlan | None:
        if index == 0:
            return None
        promote = self.environments[index].promote
        previous = self.environments[index - 1].name
        if promote is None:
            return PromotePlan(source=previous)
        if promote == "manual":
            return PromotePlan(source=previous, manual=True)
        return PromotePlan(source=promote.source, after=promote.after, manual=promote.manual)

    @property
    def repository_path(self) -> str:
        """The repository without its registry host: what registries put in their events."""
        return self.image.split("/", 1)[1] if "/" in self.image else self.image

    @property
    def registry_host(self) -> str:
        return self.image.split("/", 1)[0]

    def plan(self, argocd_app_template: str) -> ServicePlan:
        return ServicePlan(
            service=self.name,
            image=self.image,
            pulumi_program=self.pulumi.program,
            canary=self.canary,
            argocd_app_template=argocd_app_template,
            first_deploy_rollback=self.first_deploy_rollback,
            environments=[
                EnvironmentPlan(
                    name=env.name,
                    waves=env.waves,
                    bake=env.bake,
                    approval=ApprovalPlan(
                        required=env.approval == "required",
                        timeout=env.approval_timeout,
                        on_timeout=env.approval_default,
                        approvers=env.approval_policy.approvers,
                        groups=tuple(env.approval_policy.groups),
                        not_by_initiator=env.approval_policy.not_by_initiator,
                    ),
                    windows=tuple(env.windows),
                    deny_windows=tuple(env.deny_windows),
                    break_glass_groups=tuple(env.break_glass_groups),
                    require_verified=env.require_verified,
                    pulumi_config={**self.pulumi.config, **env.config},
                    prometheus_address=env.prometheus,
                    region_prometheus=env.region_prometheus,
                    verification=env.verification.over(self.verification),
                    promote=self._promote_plan(index),
                    on_bad_elsewhere=env.on_bad_elsewhere,
                )
                for index, env in enumerate(self.environments)
            ],
        )


class TemporalTLSConfig(_Strict):
    """TLS towards Temporal. Each key set here replaces the same key of the Temporal profile."""

    server_name: str | None = Field(default=None, description="name the server's certificate is checked against")
    server_ca_cert: str | None = Field(default=None, description="PEM file of the CA that signed the server's cert")
    client_cert: str | None = Field(default=None, description="PEM file of this client's certificate (mTLS)")
    client_key: SecretRef | None = Field(default=None, description="the client certificate's PEM private key (mTLS)")


class TemporalConfig(_Strict):
    """Where Temporal is. A key left out here comes from the Temporal profile: the TOML file of Temporal's
    own tools and the standard `TEMPORAL_*` variables (see rollwright.connections.temporal)."""

    profile: str | None = Field(default=None, description="profile name (default: $TEMPORAL_PROFILE or 'default')")
    config_file: str | None = Field(
        default=None,
        description="Temporal's TOML file (default: $TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml)",
    )
    address: str | None = None
    namespace: str | None = None
    task_queue: str = DEFAULT_TASK_QUEUE
    pulumi_task_queue: str = DEFAULT_PULUMI_TASK_QUEUE
    # true: TLS with the profile's certificates, if any; false: plain; a mapping: TLS with these keys replaced.
    tls: bool | TemporalTLSConfig | None = None
    api_key: SecretRef | None = None


class ArgoCDConfig(_Strict):
    server: str = "http://127.0.0.1:8090"
    token: SecretRef | None = None
    app: str = Field(default="{service}-{env}-{region}", description="Application name template")
    verify_tls: bool = True
    ca_file: str | None = Field(default=None, description="PEM bundle to trust for the Argo CD server")
    timeout: Duration = timedelta(seconds=10)
    # A hand-off follows Argo CD's watch streams and reads again at once when they show a change; it polls the
    # Application and its Rollout this often only while a stream is down (or streams are off).
    poll_interval: Duration = timedelta(seconds=2)
    # Off: poll every poll_interval, for a proxy in front of Argo CD that buffers streamed answers.
    streams: bool = True
    # Before each hand-off Rollwright creates or updates the region's Application (no automated sync: Rollwright
    # syncs to exactly its commit), so adding a region is a config change. Off: the Applications exist already.
    manage_applications: bool = True
    project: str = "default"
    repo_url: str | None = Field(default=None, description="the GitOps repository as Argo CD reads it (gitops.repo)")
    namespace: str = Field(default="{env}", description="namespace template of a region's Kubernetes objects")
    destinations: dict[str, str] = Field(default_factory=dict, description="region -> its cluster's API URL")
    default_destination: str = "https://kubernetes.default.svc"

    def destination_for(self, region: str) -> str:
        return self.destinations.get(region, self.default_destination)

    @field_validator("app", "namespace")
    @classmethod
    def _app_template_formats(cls, template: str) -> str:
        # Checked here, not when a deployment first formats it mid-rollout.
        try:
            name = template.format(service="s", env="e", region="r")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"not a valid name template ({exc!r}); use the placeholders {{service}}, {{env}} and {{region}}"
            ) from None
        if not name:
            raise ValueError("the template makes an empty name")
        return template


class PrometheusConfig(_Strict):
    """How Rollwright's workers reach the Prometheus of each environment (the addresses are per environment)."""

    token: SecretRef | None = Field(default=None, description="bearer token, if Prometheus sits behind auth")
    verify_tls: bool = True
    ca_file: str | None = None
    timeout: Duration = timedelta(seconds=10)


class GitOpsConfig(_Strict):
    repo: str = Field(description="URL or path of the GitOps remote (a bare repository locally)")
    branch: str = "main"
    author_name: str = "Rollwright"
    author_email: str = "rollwright@localhost"


class RegistryCredentials(_Strict):
    host: str
    username: str
    password: SecretRef


class RegistryConfig(_Strict):
    credentials: list[RegistryCredentials] = Field(default_factory=list)
    insecure_hosts: list[str] = Field(default_factory=list, description="hosts reached over plain HTTP")
    timeout: Duration = timedelta(seconds=10)


class VersionStoreConfig(_Strict):
    url: str | SecretRef = Field(
        default="sqlite:///rollwright-versions.db",
        description="SQLAlchemy URL, or {env|file} naming where it is kept when it carries a password",
    )


class PulumiBackendConfig(_Strict):
    backend_url: str = "file://~/.rollwright/pulumi-state"
    work_root: str = "~/.rollwright/pulumi-work"
    passphrase: SecretRef = SecretRef(env="PULUMI_CONFIG_PASSPHRASE")
    max_concurrent_operations: int = Field(default=2, ge=1)
    # The platform team's own Python policy packs (directories with PulumiPolicy.yaml), enforced beside the built-in.
    policy_packs: list[str] = Field(default_factory=list)

    @field_validator("policy_packs")
    @classmethod
    def _packs_exist(cls, packs: list[str]) -> list[str]:
        for pack in packs:
            if not (Path(pack).expanduser() / "PulumiPolicy.yaml").is_file():
                raise ValueError(f"{pack} is not a policy pack (no PulumiPolicy.yaml in it)")
        return packs


class NotifyConfig(_Strict):
    webhook_url: SecretRef | None = None


class WebhookSourceConfig(_Strict):
    """How one registry source proves a delivery is genuine: an HMAC secret, or a shared token."""

    hmac_secret: SecretRef | None = None
    token: SecretRef | None = None


class WebhooksConfig(_Strict):
    listen: str = "127.0.0.1:8080"
    sources: dict[Literal["distribution", "dockerhub", "github", "harbor", "quay", "generic"], WebhookSourceConfig] = (
        Field(default_factory=dict)
    )


class LimitsConfig(DeploymentLimits):
    """`limits:` how long each step may take and how soon a dead worker is noticed (DeploymentLimits' fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RollwrightConfig(_Strict):
    services: list[ServiceConfig] = Field(min_length=1)
    temporal: TemporalConfig = TemporalConfig()
    argocd: ArgoCDConfig = ArgoCDConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    gitops: GitOpsConfig
    registry: RegistryConfig = RegistryConfig()
    version_store: VersionStoreConfig = VersionStoreConfig()
    pulumi: PulumiBackendConfig = PulumiBackendConfig()
    notify: NotifyConfig = NotifyConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    # Every deployment's step timeouts, retries and heartbeat timeout, as the workers' config has them when it starts.
    limits: LimitsConfig = LimitsConfig()
    # The control API (served beside the webhook receiver) and how the CLI reaches it.
    api: ApiConfig = Field(default_factory=lambda: ApiConfig())

    @field_validator("services")
    @classmethod
    def _unique_services(cls, services: list[ServiceConfig]) -> list[ServiceConfig]:
        names = [service.name for service in services]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"service(s) listed twice: {', '.join(duplicates)}")
        return services

    def service(self, name: str) -> ServiceConfig:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(f"no service named {name!r} in the config")

    def service_for_repository(self, repository: str) -> ServiceConfig | None:
        """The service that watches a pushed repository, given with or without its registry host."""
        for service in self.services:
            if repository in (service.image, service.repository_path):
                return service
        return None

    def plan_for(self, service_name: str) -> ServicePlan:
        return self.service(service_name).plan(self.argocd.app)


class RoleGrant(_Strict):
    """Who holds a role (any of these groups in the token's roles claim) and where (environment names, or all)."""

    groups: list[str] = Field(default_factory=list)
    environments: list[str] | Literal["all"] = "all"

    def covers(self, groups: tuple[str, ...], environment: str) -> bool:
        where = self.environments == "all" or environment in self.environments
        return where and any(group in self.groups for group in groups)


class ApiRolesConfig(_Strict):
    """deployer: pause, resume, abort, promote, rollback, deploy, release, unblock; approver: approve; admin:
    everything, freeze and unfreeze too. Every role may read status where it holds."""

    deployer: RoleGrant = RoleGrant()
    approver: RoleGrant = RoleGrant()
    admin: RoleGrant = RoleGrant()


class ApiConfig(_Strict):
    """`api:` the control API. The server verifies bearer JWTs from `issuer` (keys from `jwks_url`) meant for
    `audience`, and signs what it forwards under `control_key` (the workers check it with the same key). The CLI
    talks to the API at `url` with the token from `token_env` or `token_file`, and to Temporal only without `url`."""

    url: str | None = Field(default=None, description="where the CLI reaches the control API")
    token_env: str = "ROLLWRIGHT_TOKEN"
    token_file: str | None = Field(default=None, description="read when token_env is unset")
    timeout: Duration = timedelta(seconds=30)
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None
    roles_claim: str = "groups"
    roles: ApiRolesConfig = ApiRolesConfig()
    control_key: SecretRef | None = None
    # Clocks of the issuer and this host may disagree a little about a token's exp/nbf/iat.
    leeway: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _served_needs_all(self) -> ApiConfig:
        served = {"issuer": self.issuer, "audience": self.audience, "jwks_url": self.jwks_url}
        missing = [name for name, value in served.items() if value is None]
        if len(missing) < len(served) and missing:
            raise ValueError(f"the control API needs issuer, audience and jwks_url together; missing: {missing}")
        if not missing and self.control_key is None:
            raise ValueError("the control API needs control_key (the workers check its attestations with it)")
        return self


RollwrightConfig.model_rebuild()
