"""Markdown the Temporal UI shows for a pipeline and for the deployments it starts."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import DeploymentInput, PipelineState
    from rollwright.domain.durations import format_duration


def deployment_details(inp: DeploymentInput, pipeline_id: str) -> str:
    """A deployment's fixed description: what, from where, and the route it will take."""
    lines = [
        f"**Service:** {inp.plan.service}",
        f"**Version:** {inp.tag} `{inp.digest}`",
        f"**Image:** {inp.plan.image}",
        f"**Announced by:** {inp.source.source} (delivery {inp.source.delivery_id})",
        f"**Started by:** {pipeline_id}",
        "",
        "**Route:**",
    ]
    for env in inp.plan.environments:
        waves = " → ".join("[" + ", ".join(wave) + "]" for wave in env.waves)
        extras = []
        if env.approval.required:
            extras.append(f"approval (timeout {format_duration(env.approval.timeout)}, then {env.approval.on_timeout})")
        if env.bake:
            extras.append(f"bake {format_duration(env.bake)} between waves")
        lines.append(f"- {env.name}: {waves}" + (f" — {'; '.join(extras)}" if extras else ""))
    return "\n".join(lines)


def pipeline_details(service: str, state: PipelineState) -> str:
    lines = [f"### pipeline {service}"]
    lines.append(f"**Live:** {state.live_tag or 'nothing yet'}")
    if state.current is not None:
        lines.append(f"**Deploying:** {state.current.tag} in `{state.current_workflow_id}`")
    if state.next_up is not None:
        lines.append(f"**Next:** {state.next_up.tag}")
    if state.queue:
        lines.append(f"**Queued (not yet inspected):** {', '.join(version.tag for version in state.queue)}")
    if state.recent:
        lines += ["", "**Recent deployments**"]
        lines += [
            f"- {d.tag}: {d.outcome.value if d.outcome else 'running'} (`{d.workflow_id}`)" for d in state.recent[-10:]
        ]
    if state.superseded:
        lines += ["", "**Superseded**"]
        lines += [f"- {s.tag} by {s.superseded_by}" for s in state.superseded[-10:]]
    if state.ignored:
        lines += ["", "**Ignored**"]
        lines += [f"- {reason}" for reason in state.ignored[-10:]]
    return "\n".join(lines)
