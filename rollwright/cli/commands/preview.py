"""`rollwright preview SERVICE ENV TAG`: what Pulumi would change in each of the environment's regions.

Runs `pulumi preview` through the provisioning package, on this machine, with the stack config a
deployment of TAG would use (its digest resolved from the registry now) and the same guardrails.
Nothing is changed and nothing is committed.
"""

from __future__ import annotations

import argparse

from pydantic import BaseModel

from activities.settings import guardrail_context, runner_settings
from rollwright.cli.context import Context, one_line
from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.config.models import RollwrightConfig
from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import EnvironmentPlan
from rollwright.domain.preview import PreviewResult
from rollwright.provisioning.errors import GuardrailViolation, ProvisioningError
from rollwright.provisioning.provisioner import Provisioner
from rollwright.provisioning.region import preview_region, stack_inputs
from rollwright.registry.client import RegistryClient
from rollwright.registry.config import RegistryClientConfig
from rollwright.registry.errors import RegistryError
from rollwright.registry.reference import parse_reference
from rollwright.secrets import SecretUnavailableError
from rollwright.stacks.inputs import RenderPurpose
from rollwright.webhooks.payloads.common import valid_tag


class Preview(BaseModel):
    service: str
    environment: str
    tag: str
    digest: str
    regions: list[PreviewResult]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "preview", parents=[common], help="preview the cloud changes a version would make", description=__doc__
    )
    parser.add_argument("service")
    parser.add_argument("environment")
    parser.add_argument("tag")
    parser.set_defaults(func=run)


async def _resolve(config: RollwrightConfig, image: str, tag: str) -> str:
    try:
        ref = parse_reference(f"{image}:{tag}")
        async with RegistryClient(RegistryClientConfig.from_settings(config.registry)) as registry:
            return (await registry.resolve(ref)).digest
    except (RegistryError, SecretUnavailableError) as exc:
        raise OperationFailed(f"cannot resolve {image}:{tag}: {one_line(exc)}") from None


async def _preview_region(
    provisioner: Provisioner, config: RollwrightConfig, env: EnvironmentPlan, target: RegionTarget, digest: str
) -> PreviewResult:
    plan = config.plan_for(target.service)
    inputs = stack_inputs(
        provisioner,
        target=target,
        image=plan.image,
        digest=digest,
        purpose=RenderPurpose.DEPLOY,
        canary_steps=plan.canary.steps,
        settings=env.pulumi_config,
    )
    return await preview_region(provisioner, inputs, plan.pulumi_program, guardrail_context(config, target))


async def run(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service(args.service)
    plan = ctx.config.plan_for(service.name)
    env = next((env for env in plan.environments if env.name == args.environment), None)
    if env is None:
        known = ", ".join(env.name for env in plan.environments)
        raise UsageError(f"{service.name} has no environment {args.environment!r} (configured: {known})")
    if not valid_tag(args.tag):
        raise UsageError(f"{args.tag!r} is not a tag")
    digest = await _resolve(ctx.config, service.image, args.tag)
    provisioner = Provisioner(runner_settings(ctx.config))
    preview = Preview(service=service.name, environment=env.name, tag=args.tag, digest=digest, regions=[])
    for region in (region for wave in env.waves for region in wave):
        target = RegionTarget(service=service.name, environment=env.name, region=region)
        try:
            preview.regions.append(await _preview_region(provisioner, ctx.config, env, target, digest))
        except GuardrailViolation as exc:
            raise OperationFailed(f"{target.key}: guardrail violation: {one_line(exc)}") from None
        except ProvisioningError as exc:
            raise OperationFailed(f"{target.key}: preview failed: {one_line(exc)}") from None
    human = "\n".join(f"{item.target.key}:\n{item.table}" for item in preview.regions)
    ctx.emit(preview, f"preview of {service.name} {args.tag} ({digest[:19]}) in {env.name}\n\n{human}".rstrip())
    return 0
