"""The memory bench's activity doubles for the DeploymentWorkflow: the workflow tests' doubles, instant and keeping
no calls, except that every region runs a previous version and a Pulumi run answers with the manifests the real program renders for that region (Rollout,
Service, ConfigMap, AnalysisTemplate), so every payload the workflow carries has its real size."""

from __future__ import annotations

from temporalio import activity

from activities.contracts import ActivityName, ProvisionInput, ProvisionPurpose, ProvisionResult, RegionBaseline
from rollwright.domain.identity import RegionTarget
from rollwright.stacks import k8s_manifests as k8s
from tests.workflows.doubles import Doubles, digest_of

_PORT = 8080
PREVIOUS_TAG = "v0.9.0"


class RenderingDoubles(Doubles):
    @activity.defn(name=ActivityName.GET_REGION_BASELINE)
    async def get_region_baseline(self, arg: RegionTarget) -> RegionBaseline:
        """Every region runs the previous version, as in most deployments (a first deploy has no baseline)."""
        return RegionBaseline(target=arg, digest=digest_of(PREVIOUS_TAG), tag=PREVIOUS_TAG)

    @activity.defn(name=ActivityName.PROVISION_REGION)
    async def provision_region(self, arg: ProvisionInput) -> ProvisionResult:
        target = arg.target
        manifests: dict[str, str] = {}
        if arg.purpose is not ProvisionPurpose.REMOVE and arg.digest is not None:
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
            manifests = {f"{target.gitops_path}/{name}": content for name, content in contents.items()}
        return ProvisionResult(
            target=target, manifests=manifests, content_hash=k8s.content_hash(manifests), changed_resources=4
        )


def instant_doubles() -> RenderingDoubles:
    return RenderingDoubles(instant=True, keep_calls=False, step_seconds=0.0, follow_seconds=0.0)
