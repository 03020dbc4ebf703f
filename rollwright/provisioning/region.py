"""One region's Pulumi work as a deployment and the CLI's preview both see it: its stack inputs, the
policy context (every configured stack's environment), and a preview turned into a change report with the
policy packs' verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rollwright.domain.identity import RegionTarget
from rollwright.domain.plan import CanaryAnalysis, CanaryStep
from rollwright.domain.preview import PreviewResult
from rollwright.provisioning import preview_report
from rollwright.provisioning.protocol import GuardrailContext
from rollwright.provisioning.provisioner import Provisioner
from rollwright.stacks.inputs import RenderPurpose, StackInputs


def stack_inputs(
    provisioner: Provisioner,
    *,
    target: RegionTarget,
    image: str,
    digest: str | None,
    purpose: RenderPurpose,
    canary_steps: list[CanaryStep],
    settings: dict[str, Any],
    analysis: CanaryAnalysis | None = None,
    namespace: str | None = None,
) -> StackInputs:
    data_dir = settings.get("data_dir") or provisioner.data_dir()
    return StackInputs(
        target=target,
        image=image,
        digest=digest,
        purpose=purpose,
        canary_steps=canary_steps,
        analysis=analysis,
        namespace=namespace,
        settings=settings,
        manifests_dir=str(provisioner.manifests_dir(target.stack_name)),
        data_dir=str(Path(str(data_dir)).expanduser()),
    )


async def preview_region(
    provisioner: Provisioner, inputs: StackInputs, program: str, guardrails: GuardrailContext
) -> PreviewResult:
    result = await provisioner.preview(inputs, program, guardrails)
    changes = preview_report.changes(result.steps)
    return PreviewResult(
        target=inputs.target,
        changes=changes,
        markdown=preview_report.markdown(inputs.target, changes, result.verdicts),
        table=preview_report.table(changes, result.verdicts),
        verdicts=result.verdicts,
    )
