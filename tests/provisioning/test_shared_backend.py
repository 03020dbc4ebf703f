"""Many services share one Pulumi project in one backend: the policy context reads every stack's checkpoint, and a
half-written one of another stack does not fail it.

Another worker may be saving any other stack's checkpoint at any moment (its `.attrs` sidecar is rewritten in
place); the CLI reading every stack would read that half-written file and fail with `error: EOF`.
"""

from __future__ import annotations

from pathlib import Path

from rollwright.domain.identity import RegionTarget
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.stacks.inputs import StackInputs
from tests.provisioning.conftest import make_settings

PROGRAM = "rollwright.stacks.web_service:program"
DIGEST = "sha256:" + "5" * 64


def inputs(provisioner: Provisioner, target: RegionTarget) -> StackInputs:
    return StackInputs(
        target=target,
        image="registry.local:5000/shop/api",
        digest=DIGEST,
        canary_steps=[],
        settings={"replicas": 1},
        manifests_dir=str(provisioner.manifests_dir(target.stack_name)),
        data_dir=str(provisioner.data_dir()),
    )


async def test_a_half_written_checkpoint_of_an_unrelated_stack_does_not_fail_a_provision(
    tmp_path: Path, pulumi_bin_dirs: list[Path]
) -> None:
    settings = make_settings(tmp_path, pulumi_bin_dirs)
    provisioner = Provisioner(settings)
    other = RegionTarget(service="billing", environment="prod", region="us-east-1")
    await provisioner.provision(inputs(provisioner, other), PROGRAM, GuardrailContext(environment="prod"))
    assert settings.backend_dir is not None
    sidecars = list(settings.backend_dir.rglob(f"{other.stack_name}.json.attrs"))
    assert sidecars, "the file backend keeps an .attrs sidecar beside each checkpoint"
    for sidecar in sidecars:
        sidecar.write_bytes(sidecar.read_bytes()[: len(sidecar.read_bytes()) // 2])  # caught mid-save

    staging = RegionTarget(service="shop", environment="staging", region="local-a")
    prod = RegionTarget(service="shop", environment="prod", region="us-east-1")
    stacks = {staging.stack_name: "staging", prod.stack_name: "prod"}
    guard = GuardrailContext(environment="prod", stack_environments=stacks)
    # prod has no stack yet: a stack the config names but the backend does not have is no error.
    not_yet = GuardrailContext(environment="staging", stack_environments=stacks)
    await provisioner.provision(inputs(provisioner, staging), PROGRAM, not_yet)
    result = await provisioner.provision(inputs(provisioner, prod), PROGRAM, guard)

    assert result.changed > 0
