"""Rollouts as Argo Rollouts controllers leave them in each situation a hand-off meets, each with the health Argo CD's
built-in Rollout check gives it and the verdict Rollwright's own reading gives it.

Our own cases for the situations Argo CD's published Rollout health tests cover: a Rollout not yet reconciled or whose
new spec is not yet observed; canary steps, pauses at a step and by a person; aborts; an invalid spec; the progress
deadline; a canary with no steps; blue-green; and the shapes Rollwright refuses: a `workloadRef`, no `status.phase`
(controllers before 1.0) and a hash for `observedGeneration` (before 0.10). Where the two verdicts differ, `why` says
why Rollwright's reading wins (rollwright/argocd/rollout_status.py's docstring gives the rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rollwright.argocd.rollout_status import RolloutVerdict

REPOSITORY = "registry.local:5000/shop/api"
DIGEST = "sha256:" + "c" * 64
OTHER_DIGEST = "sha256:" + "d" * 64
GENERATION = 2
REPLICAS = 4
# As Rollwright renders a canary: two weights, each followed by a timed pause.
STEPS: list[dict[str, Any]] = [
    {"setWeight": 25},
    {"pause": {"duration": "4s"}},
    {"setWeight": 50},
    {"pause": {"duration": "4s"}},
]
PAUSED_AT = "2026-11-30T10:00:00Z"
ANALYSIS_FAILED = 'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)'

# What each Argo CD health means for a hand-off: Suspended (a pause) is "not done yet", as Progressing is.
ARGOCD_MEANS = {
    "Healthy": RolloutVerdict.HEALTHY,
    "Progressing": RolloutVerdict.PROGRESSING,
    "Suspended": RolloutVerdict.PROGRESSING,
    "Degraded": RolloutVerdict.FAILED,
}


@dataclass(frozen=True)
class Case:
    name: str
    rollout: dict[str, Any]
    argocd: str  # Argo CD's health status for the Rollout: Healthy, Progressing, Suspended or Degraded
    rollwright: RolloutVerdict
    deadline_passed: bool = False
    why: str = ""  # where the two differ: why Rollwright's verdict is the one a hand-off acts on

    @property
    def agrees(self) -> bool:
        return ARGOCD_MEANS[self.argocd] is self.rollwright


def canary(
    status: dict[str, Any] | None,
    *,
    steps: list[dict[str, Any]] | None = STEPS,
    generation: int = GENERATION,
    digest: str = DIGEST,
    paused: bool = False,
) -> dict[str, Any]:
    """A canary Rollout with an inline pod template, as Rollwright renders one; `steps=None` leaves them out."""
    strategy: dict[str, Any] = {"canary": {} if steps is None else {"steps": steps}}
    spec: dict[str, Any] = {
        "replicas": REPLICAS,
        "selector": {"matchLabels": {"app": "api"}},
        "template": {
            "metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "api", "image": f"{REPOSITORY}@{digest}"}]},
        },
        "strategy": strategy,
    }
    if paused:
        spec["paused"] = True
    return _rollout(spec, status, generation)


def blue_green(status: dict[str, Any]) -> dict[str, Any]:
    rollout = canary(status)
    rollout["spec"]["strategy"] = {"blueGreen": {"activeService": "api", "previewService": "api-preview"}}
    return rollout


def workload_ref(status: dict[str, Any], *, workload_generation: int) -> dict[str, Any]:
    """A Rollout whose pod template lives in a Deployment it refers to (Argo Rollouts 1.1 on)."""
    spec = {
        "replicas": REPLICAS,
        "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "strategy": {"canary": {"steps": STEPS}},
    }
    rollout = _rollout(spec, status, GENERATION)
    rollout["metadata"]["annotations"] = {"rollout.argoproj.io/workload-generation": str(workload_generation)}
    return rollout


def _rollout(spec: dict[str, Any], status: dict[str, Any] | None, generation: int) -> dict[str, Any]:
    rollout: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "api", "namespace": "shop", "generation": generation},
        "spec": spec,
    }
    if status is not None:
        rollout["status"] = status
    return rollout


def v1_status(phase: str, message: str = "", *, step: int | None = None, **fields: Any) -> dict[str, Any]:
    """What a controller from 1.0 on writes: the observed generation with a phase and message, replicas all updated
    and available, the new pods not yet stable (pass stableRS="new" once they are)."""
    status: dict[str, Any] = {
        "observedGeneration": str(GENERATION),
        "phase": phase,
        "message": message,
        "currentPodHash": "new",
        "stableRS": "old",
        "replicas": REPLICAS,
        "updatedReplicas": REPLICAS,
        "readyReplicas": REPLICAS,
        "availableReplicas": REPLICAS,
    }
    if step is not None:
        status["currentStepIndex"] = step
    status.update(fields)
    return status


def legacy_status(observed: str, *conditions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """What a controller before 1.0 writes: no phase, only conditions; `observed` is a counter (0.10) or a hash."""
    status: dict[str, Any] = {
        "observedGeneration": observed,
        "currentPodHash": "new",
        "stableRS": "new",
        "currentStepIndex": len(STEPS),
        "replicas": REPLICAS,
        "updatedReplicas": REPLICAS,
        "readyReplicas": REPLICAS,
        "availableReplicas": REPLICAS,
        "conditions": [AVAILABLE, *conditions],
    }
    status.update(fields)
    return status


def condition(kind: str, state: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": state, "reason": reason, "message": message}


AVAILABLE = condition("Available", "True", "AvailableReason", "Rollout has minimum availability")
PROGRESSED = condition(
    "Progressing", "True", "NewReplicaSetAvailable", 'ReplicaSet "api-new" has successfully progressed.'
)
PAUSED_AT_STEP = {"controllerPause": True, "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": PAUSED_AT}]}
ABORTED = "RolloutAborted: Rollout aborted update to revision 2"
UPDATING = "more replicas need to be updated"
# A new spec's first status write while the previous canary's abort still stands: no new pod updated yet.
ABORT_NOT_CLEARED: dict[str, Any] = {
    "step": 0,
    "abort": True,
    "abortedAt": PAUSED_AT,
    "currentPodHash": "aborted",
    "updatedReplicas": 0,
}


def failed_analysis(run: str) -> dict[str, Any]:
    """`status.canary` once the background AnalysisRun `run` failed its success-rate check."""
    return {"currentBackgroundAnalysisRunStatus": {"name": run, "status": "Failed", "message": ANALYSIS_FAILED}}


# The reasons below are the rule of rollout_status.py, case by case.
STALE_IMAGE = "Argo CD judges the live object; the hand-off must know whether its own digest got through"
ABORT_IS_FINAL = "an abort (by a person or by analysis) is final: the canary cannot go on, whatever the phase says yet"
ANALYSIS_IS_FINAL = "a failed AnalysisRun aborts the canary; the controller has only not rewritten the phase yet"
OUR_DEADLINE = "the hand-off's progress deadline is Rollwright's budget; Argo CD has none"
NO_IMAGE = "the image lives in the referenced Deployment: Argo CD's verdict says nothing about which version runs"
NO_PHASE = "a controller before 1.0 writes no phase; Rollwright judges only what 1.x controllers write"
HASH = "with a hash Argo CD takes any spec as observed, so it may judge a status written before the current spec"

CASES = [
    # -- what Argo Rollouts 1.x writes, for a Rollout with an inline pod template -----------------------------------
    Case("created, not yet reconciled", canary(None), "Progressing", RolloutVerdict.PROGRESSING),
    Case(
        "a new spec not yet observed",
        canary(v1_status("Healthy", stableRS="new", observedGeneration="1")),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "setting the first weight",
        canary(v1_status("Progressing", UPDATING, step=0, updatedReplicas=1)),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "paused at a canary step",
        canary(v1_status("Paused", "CanaryPauseStep", step=1, **PAUSED_AT_STEP)),
        "Suspended",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "paused by a person",
        canary(v1_status("Paused", "manually paused", step=2), paused=True),
        "Suspended",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "old replicas pending termination",
        canary(v1_status("Progressing", "old replicas are pending termination", step=4, replicas=5, stableRS="new")),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "every step done, new pods stable",
        canary(v1_status("Healthy", step=4, stableRS="new")),
        "Healthy",
        RolloutVerdict.HEALTHY,
    ),
    Case(
        "a canary with no steps",
        canary(v1_status("Healthy", stableRS="new"), steps=None),
        "Healthy",
        RolloutVerdict.HEALTHY,
    ),
    Case(
        "a canary with an empty list of steps",
        canary(v1_status("Healthy", step=0, stableRS="new"), steps=[]),
        "Healthy",
        RolloutVerdict.HEALTHY,
    ),
    Case(
        "aborted",
        canary(v1_status("Degraded", ABORTED, step=0, abort=True)),
        "Degraded",
        RolloutVerdict.FAILED,
    ),
    Case(
        "aborted, the controller not yet done rewriting the phase",
        canary(v1_status("Paused", "CanaryPauseStep", step=1, abort=True, **PAUSED_AT_STEP)),
        "Suspended",
        RolloutVerdict.FAILED,
        why=ABORT_IS_FINAL,
    ),
    # Seen on Argo Rollouts 1.10 for one status write after a new spec, before the controller clears the abort.
    Case(
        "a new spec after an abort, the old abort not yet cleared",
        canary(v1_status("Progressing", UPDATING, **ABORT_NOT_CLEARED)),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "a new spec after a canary its analysis aborted, neither yet cleared",
        canary(v1_status("Progressing", UPDATING, **ABORT_NOT_CLEARED, canary=failed_analysis("api-aborted-2"))),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "background analysis failed, the phase not yet rewritten",
        canary(v1_status("Progressing", UPDATING, step=2, updatedReplicas=2, canary=failed_analysis("api-new-2"))),
        "Progressing",
        RolloutVerdict.FAILED,
        why=ANALYSIS_IS_FINAL,
    ),
    Case(
        "background analysis failed and the canary aborted",
        canary(
            v1_status(
                "Degraded",
                f"{ABORTED}: Background analysis phase failed: {ANALYSIS_FAILED}",
                step=2,
                abort=True,
                canary=failed_analysis("api-new-2"),
            )
        ),
        "Degraded",
        RolloutVerdict.FAILED,
    ),
    Case(
        "an invalid spec",
        canary(
            v1_status(
                "Degraded",
                'InvalidSpec: The Rollout "api" is invalid: spec.strategy.canary.steps[1].pause.duration: Invalid',
            )
        ),
        "Degraded",
        RolloutVerdict.FAILED,
    ),
    Case(
        "the controller's progress deadline passed",
        canary(
            v1_status("Degraded", 'ProgressDeadlineExceeded: ReplicaSet "api-new" has timed out progressing.', step=0)
        ),
        "Degraded",
        RolloutVerdict.FAILED,
    ),
    Case(
        "Rollwright's progress deadline passed in a pause",
        canary(v1_status("Paused", "CanaryPauseStep", step=1, **PAUSED_AT_STEP)),
        "Suspended",
        RolloutVerdict.FAILED,
        deadline_passed=True,
        why=OUR_DEADLINE,
    ),
    Case(
        "Rollwright's progress deadline passed before the controller observed the spec",
        canary(v1_status("Healthy", stableRS="new", observedGeneration="1")),
        "Progressing",
        RolloutVerdict.FAILED,
        deadline_passed=True,
        why=OUR_DEADLINE,
    ),
    Case(
        "healthy, running another version",
        canary(v1_status("Healthy", step=4, stableRS="new"), digest=OTHER_DIGEST),
        "Healthy",
        RolloutVerdict.PROGRESSING,
        why=STALE_IMAGE,
    ),
    Case(
        "blue-green, the active service on the new pods",
        blue_green(v1_status("Healthy", stableRS="new", blueGreen={"activeSelector": "new"})),
        "Healthy",
        RolloutVerdict.HEALTHY,
    ),
    Case(
        "blue-green, the cutover pending",
        blue_green(v1_status("Progressing", "active service cutover pending", blueGreen={"activeSelector": "old"})),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "blue-green, paused before promotion",
        blue_green(
            v1_status(
                "Paused",
                "BlueGreenPause",
                blueGreen={"activeSelector": "old", "previewSelector": "new"},
                controllerPause=True,
                pauseConditions=[{"reason": "BlueGreenPause", "startTime": PAUSED_AT}],
            )
        ),
        "Suspended",
        RolloutVerdict.PROGRESSING,
    ),
    # -- what Rollwright refuses at the first look ---------------------------------------------------------------------
    Case(
        "workloadRef, healthy",
        workload_ref(v1_status("Healthy", stableRS="new", workloadObservedGeneration="1"), workload_generation=1),
        "Healthy",
        RolloutVerdict.UNJUDGEABLE,
        why=NO_IMAGE,
    ),
    Case(
        "workloadRef, the Deployment changed and not yet observed",
        workload_ref(v1_status("Healthy", stableRS="new", workloadObservedGeneration="1"), workload_generation=2),
        "Progressing",
        RolloutVerdict.UNJUDGEABLE,
        why=NO_IMAGE,
    ),
    Case(
        "0.10: healthy, no phase",
        canary(legacy_status(str(GENERATION), PROGRESSED)),
        "Healthy",
        RolloutVerdict.UNJUDGEABLE,
        why=NO_PHASE,
    ),
    Case(
        "0.10: an invalid spec, no phase",
        canary(
            legacy_status(
                str(GENERATION),
                PROGRESSED,
                condition(
                    "InvalidSpec", "True", "InvalidSpec", 'The Rollout "api" is invalid: spec.strategy: Required'
                ),
            )
        ),
        "Degraded",
        RolloutVerdict.UNJUDGEABLE,
        why=NO_PHASE,
    ),
    Case(
        "0.10: a new spec not yet observed",
        canary(legacy_status("1", PROGRESSED)),
        "Progressing",
        RolloutVerdict.PROGRESSING,
    ),
    Case(
        "0.9: a hash for observedGeneration, healthy",
        canary(legacy_status("7c9d5f4b8", PROGRESSED)),
        "Healthy",
        RolloutVerdict.UNJUDGEABLE,
        why=HASH,
    ),
    Case(
        "0.9: a hash of digits for observedGeneration, healthy",
        canary(legacy_status("6758949755", PROGRESSED)),
        "Healthy",
        RolloutVerdict.UNJUDGEABLE,
        why=HASH,
    ),
    Case(
        "0.9: aborted",
        canary(
            legacy_status(
                "7c9d5f4b8",
                condition("Progressing", "False", "RolloutAborted", "Rollout is aborted"),
                abort=True,
                stableRS="old",
                currentStepIndex=0,
            )
        ),
        "Degraded",
        RolloutVerdict.UNJUDGEABLE,
        why=HASH,
    ),
    Case(
        "0.9: paused by a person",
        canary(
            legacy_status(
                "7c9d5f4b8",
                condition("Progressing", "Unknown", "RolloutPaused", "Rollout is paused"),
                stableRS="old",
                currentStepIndex=1,
            ),
            paused=True,
        ),
        "Suspended",
        RolloutVerdict.UNJUDGEABLE,
        why=HASH,
    ),
    Case(
        "0.9: blue-green past its progress deadline",
        blue_green(
            legacy_status(
                "7c9d5f4b8",
                condition("Progressing", "False", "ProgressDeadlineExceeded", 'ReplicaSet "api-new" has timed out.'),
                stableRS="old",
                blueGreen={"activeSelector": "old"},
            )
        ),
        "Degraded",
        RolloutVerdict.UNJUDGEABLE,
        why=HASH,
    ),
]
