"""The config file's sections mapped to each client's own settings: the one place the two meet.

Clients know nothing of `rollwright.config`; workers (and the CLI) read the config file and hand each client
the small settings object it defines.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from rollwright.argocd.client import ApplicationPlacement
from rollwright.argocd.config import ArgoCDClientConfig, TLSOptions
from rollwright.argocd.config import Timeouts as ArgoCDTimeouts
from rollwright.config.models import RollwrightConfig
from rollwright.domain.identity import RegionTarget
from rollwright.gitops.repository import GitOpsSettings
from rollwright.http_settings import Timeouts
from rollwright.observability.logging import register_secret
from rollwright.prometheus import PrometheusClientConfig
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.settings import RunnerSettings, expand_file_url
from rollwright.registry.config import BasicCredentials, RegistryClientConfig
from rollwright.registry.config import Timeouts as RegistryTimeouts
from rollwright.secrets import SecretRef, read_secret


def default_clone_dir(config: RollwrightConfig) -> Path:
    """This worker's clone of the GitOps repository, next to its Pulumi work dirs."""
    return Path(config.pulumi.work_root).expanduser() / "gitops-clone"


def gitops_settings(config: RollwrightConfig, clone_dir: Path | None = None) -> GitOpsSettings:
    return GitOpsSettings(
        remote=config.gitops.repo,
        branch=config.gitops.branch,
        clone_dir=clone_dir or default_clone_dir(config),
        author_name=config.gitops.author_name,
        author_email=config.gitops.author_email,
    )


def runner_settings(config: RollwrightConfig, bin_dirs: list[Path] | None = None) -> RunnerSettings:
    return RunnerSettings(
        backend_url=expand_file_url(config.pulumi.backend_url),
        work_root=Path(config.pulumi.work_root).expanduser().resolve(),
        passphrase=config.pulumi.passphrase,
        bin_dirs=bin_dirs or [],
        policy_packs=[Path(pack).expanduser().resolve() for pack in config.pulumi.policy_packs],
    )


def guardrail_context(config: RollwrightConfig, target: RegionTarget) -> GuardrailContext:
    """Every configured stack's environment, all services: whatever another environment's stacks export is off
    limits here, whichever service they belong to."""
    stacks: dict[str, str] = {}
    names: set[str] = set()
    production = False
    for service in config.services:
        for environment in service.environments:
            names.add(environment.name)
            if service.name == target.service and environment.name == target.environment:
                production = environment.is_production
            for region in (region for wave in environment.waves for region in wave):
                stack = RegionTarget(service=service.name, environment=environment.name, region=region)
                stacks[stack.stack_name] = environment.name
    return GuardrailContext(
        environment=target.environment,
        production=production,
        stack_environments=stacks,
        environments=sorted(names),
    )


def _secret(ref: SecretRef) -> SecretStr:
    """Read now (SecretUnavailableError if absent) and registered, so the value never reaches a log line."""
    value = read_secret(ref)
    register_secret(value)
    return SecretStr(value)


def registry_client_config(config: RollwrightConfig) -> RegistryClientConfig:
    """The registry client's settings from `registry:`; reads each password now (SecretUnavailableError if absent)."""
    credentials: dict[str, BasicCredentials] = {}
    for entry in config.registry.credentials:
        credentials[entry.host] = BasicCredentials(username=entry.username, password=_secret(entry.password))
    seconds = config.registry.timeout.total_seconds()
    return RegistryClientConfig(
        timeouts=RegistryTimeouts(connect=min(seconds, 5.0), read=seconds, write=seconds, pool=min(seconds, 5.0)),
        credentials=credentials,
        insecure_hosts=frozenset(config.registry.insecure_hosts),
    )


def application_placement(config: RollwrightConfig, target: RegionTarget) -> ApplicationPlacement:
    """The region's Argo CD Application as the workers' config describes it."""
    section = config.argocd
    return ApplicationPlacement(
        project=section.project,
        repo_url=section.repo_url or config.gitops.repo,
        path=target.gitops_path,
        target_revision=config.gitops.branch,
        server=section.destination_for(target.region),
        namespace=target.fill(section.namespace),
    )


def argocd_client_config(config: RollwrightConfig) -> ArgoCDClientConfig:
    """The Argo CD client's settings from `argocd:`; reads the token now (SecretUnavailableError if absent)."""
    section = config.argocd
    seconds = section.timeout.total_seconds()
    return ArgoCDClientConfig(
        server=section.server,
        token=None if section.token is None else _secret(section.token),
        tls=TLSOptions(verify=section.verify_tls, ca_file=section.ca_file),
        timeouts=ArgoCDTimeouts(read=seconds, write=seconds),
    )


def prometheus_client_config(config: RollwrightConfig, address: str) -> PrometheusClientConfig:
    """One Prometheus client's settings from `prometheus:`; reads the token now (SecretUnavailableError if absent)."""
    section = config.prometheus
    seconds = section.timeout.total_seconds()
    return PrometheusClientConfig(
        address=address,
        token=None if section.token is None else _secret(section.token),
        verify_tls=section.verify_tls,
        ca_file=section.ca_file,
        timeouts=Timeouts(read=seconds, write=seconds),
    )
