"""The memory bench's activity doubles for the DeploymentWorkflow: the workflow tests' doubles, instant and keeping
no calls, except that every region runs a previous version and a Pulumi run renders the manifests the real
program renders for that region (Rollout, Service, ConfigMap, AnalysisTemplate) and, like the real activity,
answers with their content hash; so every payload the workflow carries has its real size. Each distinct region
and version is rendered once: a real Pulumi run happens on the Pulumi worker's child process, never on the
worker the bench measures."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity

from activities.contracts import ActivityName, ProvisionInput, ProvisionPurpose, ProvisionResult, RegionBaseline
from rollwright.domain.identity import RegionTarget
from rollwright.stacks import k8s_manifests as k8s
from tests.workflows.doubles import Doubles, digest_of

_PORT = 8080
PREVIOUS_TAG = "v0.9.0"


def _render(arg: ProvisionInput) -> dict[str, str]:
    """What rollwright.stacks.web_service writes for this region, by path in the GitOps repository."""
    target = arg.target
    if arg.purpose is ProvisionPurpose.REMOVE or arg.digest is None:
        return {}
    replicas = 0 if arg.purpose is ProvisionPurpose.SCALE_TO_ZERO else int(arg.pulumi_config.get("replicas", 1))
    database = f"sqlite:////var/lib/rollwright/{target.environment}/{target.service}.db"
    contents = {
        k8s.ROLLOUT_FILE: k8s.render_rollout(
            target, arg.image, arg.digest, replicas, arg.canary_steps, _PORT, arg.analysis
        ),
        k8s.SERVICE_FILE: k8s.render_service(target, _PORT),
        k8s.CONFIGMAP_FILE: k8s.render_config_map(target, database, {}),
    }
    if arg.analysis is not None and arg.analysis.checks:
        contents[k8s.ANALYSIS_FILE] = k8s.render_analysis_template(target, arg.analysis)
    return {f"{target.gitops_path}/{name}": content for name, content in contents.items()}


@dataclass
class RenderingDoubles(Doubles):
    # ProvisionInput without its workflow id -> the manifests rendered for it.
    rendered: dict[str, dict[str, str]] = field(default_factory=dict)

    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    async def get_region_baseline(self, arg: RegionTarget) -> RegionBaseline:
        """Every region runs the previous version, as in most deployments (a first deploy has no baseline)."""
        return RegionBaseline(target=arg, digest=digest_of(PREVIOUS_TAG), tag=PREVIOUS_TAG)

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, arg: ProvisionInput) -> ProvisionResult:
        key = arg.model_dump_json(exclude={"workflow_id"})
        if key not in self.rendered:
            self.rendered[key] = _render(arg)
        rendered = self.keep_manifests(self.rendered[key])
        return ProvisionResult(target=arg.target, content_hash=rendered, manifests_ref=rendered, changed_resources=4)


def instant_doubles() -> RenderingDoubles:
    return RenderingDoubles(instant=True, keep_calls=False, step_seconds=0.0, follow_seconds=0.0)
