"""What an Argo Rollouts `Rollout` object says about its canary: a pure reading of its spec and status.

Field meanings follow argo-rollouts' v1alpha1 types as controllers from v1.0 on write them: `status.phase` is
Healthy, Progressing, Paused or Degraded; `currentStepIndex` points at the step being executed (== number of steps
once promoted); an aborted rollout has `status.abort` set; analysis results sit in `status.canary.*AnalysisRunStatus`.

This reading, not the health Argo CD shows for the Rollout, decides a hand-off. Argo CD's built-in Rollout check
says how the live object is doing; a hand-off must know whether *its* version got through, and say so at once when
it cannot know. Where the two differ (tests/argocd/rollout_cases.py has a case for each, checked against the real
argocd binary's own health check):
- Argo CD reads Healthy for a Rollout that runs another image (the sync has not reached it yet): we wait for our
  digest, and past the deadline fail saying what runs instead.
- Argo CD reads Healthy on `status.phase` alone; we also want every step done and the new pods the stable ReplicaSet.
- Argo CD reads Suspended for a Rollout just marked aborted, and Progressing or Suspended for one whose analysis has
  failed, until the controller rewrites the phase: we fail it at once, as the canary cannot go on either way.
- Past our own progress deadline Argo CD still reads Progressing or Suspended; we fail it.
- Argo CD judges Rollouts whose outcome we cannot see; we refuse them at the first look (UNJUDGEABLE): one with
  `spec.workloadRef` (Argo CD's Healthy says nothing about the image the referenced workload runs), one with no
  `status.phase` (controllers before v1.0), one whose `observedGeneration` is a hash (before v0.10: Argo CD then takes
  the spec as observed, so it can call Healthy a Rollout whose controller has not yet looked at the new spec).
A pause at a step or by a person reads Suspended in Argo CD and progressing here: both mean "not done yet".
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

FAILED_ANALYSIS = ("Failed", "Error")


# What an unjudgeable Rollout's error says Rollwright can follow instead.
SUPPORTED_ROLLOUTS = "supported: Rollouts with an inline pod template, Argo Rollouts 1.0 or later"


class RolloutVerdict(StrEnum):
    PROGRESSING = "progressing"
    HEALTHY = "healthy"
    FAILED = "failed"
    # No later look will tell more: the reason says why, so the hand-off ends at once, not at its deadline.
    UNJUDGEABLE = "unjudgeable"


class RolloutStatus(BaseModel):
    name: str
    phase: str | None = None
    step_index: int | None = None
    step_count: int = 0
    weight: int | None = None
    message: str | None = None
    verdict: RolloutVerdict
    reason: str | None = Field(default=None, description="why the canary failed or cannot be judged, for people")
    images: list[str] = Field(default_factory=list)
    up_to_date: bool = Field(description="the controller has seen the current spec (observedGeneration)")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    steps = _dict(_dict(spec.get("strategy")).get("canary")).get("steps")
    return [_dict(step) for step in steps] if isinstance(steps, list) else []


def _weight(status: dict[str, Any], steps: list[dict[str, Any]], index: int | None) -> int | None:
    """Canary traffic %: the traffic router's figure if any, else the last setWeight reached (as the plugin does)."""
    routed = _dict(_dict(_dict(status.get("canary")).get("weights")).get("canary")).get("weight")
    if isinstance(routed, int):
        return routed
    if status.get("abort"):
        return 0
    if index is None:
        return None
    if index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        if isinstance(step.get("setWeight"), int):
            return int(step["setWeight"])
    return 0


# How Argo Rollouts' status message of an aborted Rollout begins.
ABORTED_REASON = "RolloutAborted"


def _analysis_failure(status: dict[str, Any]) -> str | None:
    canary = _dict(status.get("canary"))
    for key, label in (
        ("currentStepAnalysisRunStatus", "analysis"),
        ("currentBackgroundAnalysisRunStatus", "background analysis"),
    ):
        run = _dict(canary.get(key))
        if run.get("status") in FAILED_ANALYSIS:
            detail = f": {run['message']}" if run.get("message") else ""
            return f"{label} run {run.get('name', '?')} {run['status']}{detail}"
    return None


def _images(spec: dict[str, Any]) -> list[str]:
    pod = _dict(_dict(spec.get("template")).get("spec"))
    containers = [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]
    return [str(c["image"]) for c in containers if isinstance(c, dict) and "image" in c]


class _Observation(StrEnum):
    NOT_YET = "not yet"  # no status yet, or one about an earlier generation of the spec
    CURRENT = "current"
    LEGACY_HASH = "legacy hash"


def _observation(generation: Any, observed: Any) -> _Observation:
    """Whether the status is about the current spec: status.observedGeneration equals metadata.generation.
    Controllers before Argo Rollouts 0.10 wrote a hash of the spec there instead of that counter."""
    if observed is None or observed == "":
        return _Observation.NOT_YET
    try:
        number = int(str(observed))
    except ValueError:
        return _Observation.LEGACY_HASH
    try:
        current = int(str(generation))
    except ValueError:
        return _Observation.CURRENT  # nothing to compare with: take the status as it stands
    # The counter is copied from metadata.generation, so it never runs ahead of it: a larger one is a hash of digits.
    if number > current:
        return _Observation.LEGACY_HASH
    return _Observation.CURRENT if number == current else _Observation.NOT_YET


def _unjudgeable(
    name: str, spec: dict[str, Any], observed: Any, observation: _Observation, phase: str | None
) -> str | None:
    """Why no look at this Rollout, now or later, can tell how a version is doing; None when one can."""
    ref = spec.get("workloadRef")
    if ref:
        # The pod template, so the image, lives in the referenced workload: the Rollout's manifest does not show it.
        workload = f"{_dict(ref).get('kind', 'workload')} {_dict(ref).get('name', '?')}"
        return (
            f"Rollout {name} has spec.workloadRef ({workload}): Rollwright cannot see which image it runs; "
            f"{SUPPORTED_ROLLOUTS}"
        )
    if observation is _Observation.LEGACY_HASH:
        return (
            f"Rollout {name} has a spec hash ({observed}) for status.observedGeneration, as Argo Rollouts before 0.10 "
            f"wrote: Rollwright cannot tell whether its controller has seen the current spec; {SUPPORTED_ROLLOUTS}"
        )
    if observation is _Observation.CURRENT and phase is None:
        return (
            f"Rollout {name} has no status.phase although its controller has observed it (Argo Rollouts before 1.0): "
            f"Rollwright cannot judge it; {SUPPORTED_ROLLOUTS}"
        )
    return None


def _left_over_abort(status: dict[str, Any], phase: str | None) -> bool:
    """An abort the controller handled (it wrote `abortedAt`) and then left behind for a new spec. It reads Degraded
    for as long as an abort holds, so any other phase means it is carrying the flag over until it clears it: Argo
    Rollouts 1.10 writes one status with the new generation observed, phase Progressing and the old abort still set.
    A fresh abort has no `abortedAt` yet, and fails at once."""
    return bool(status.get("abortedAt")) and phase != "Degraded"


def _failure(status: dict[str, Any], phase: str | None, message: str | None) -> str | None:
    """Why the controller has given up on the current spec, from a status that is about it; None while it has not."""
    if status.get("abort") and _left_over_abort(status, phase):
        # What made the version before fail (its analysis runs too) is left over with it.
        return None
    analysis = _analysis_failure(status)
    if analysis:
        # The controller's abort message usually repeats the analysis message; say it once.
        return analysis if not message or analysis.split(": ", 1)[-1] in message else f"{analysis} ({message})"
    if status.get("abort"):
        # Just after an abort the controller may not have rewritten the message yet (it still names the pause).
        aborted = message is not None and message.startswith(ABORTED_REASON)
        return message if aborted else f"{ABORTED_REASON}: the rollout was aborted"
    if phase == "Degraded":
        return message or "rollout degraded"
    return None


def _past_deadline(
    up_to_date: bool,
    generation: Any,
    observed: Any,
    index: int | None,
    steps: int,
    phase: str | None,
    message: str | None,
) -> str:
    """Where the Rollout stood when the caller's progress deadline passed."""
    if not up_to_date:
        seen = f"it last observed {observed}" if observed else "it has written no status: is it running?"
        return f"progress deadline passed before the Argo Rollouts controller observed generation {generation} ({seen})"
    where = f"at step {index}/{steps}" if index is not None else f"in phase {phase or 'unknown'}"
    return f"progress deadline passed {where}" + (f": {message}" if message else "")


def interpret_rollout(
    rollout: dict[str, Any], *, digest: str | None = None, deadline_passed: bool = False
) -> RolloutStatus:
    """Read a live Rollout that should run `digest` (None: any version). `deadline_passed` is the caller's own
    progress deadline (the object's is in status)."""
    metadata = _dict(rollout.get("metadata"))
    spec = _dict(rollout.get("spec"))
    status = _dict(rollout.get("status"))
    name = str(metadata.get("name", ""))
    steps = _steps(spec)
    images = _images(spec)
    raw_index = status.get("currentStepIndex")
    index = raw_index if isinstance(raw_index, int) else None
    phase = status.get("phase") if isinstance(status.get("phase"), str) else None
    message = status.get("message") or None
    generation, observed = metadata.get("generation"), status.get("observedGeneration")
    observation = _observation(generation, observed)
    up_to_date = observation is _Observation.CURRENT

    verdict = RolloutVerdict.PROGRESSING
    reason = _unjudgeable(name, spec, observed, observation, phase)
    if reason is not None:
        verdict = RolloutVerdict.UNJUDGEABLE
    elif digest is not None and not any(image.endswith(f"@{digest}") for image in images):
        # The live object still shows another template, so its status is not about our version.
        reason = f"the Rollout never ran {digest} (it runs {', '.join(images) or 'nothing'})"
        verdict = RolloutVerdict.FAILED if deadline_passed else RolloutVerdict.PROGRESSING
    else:
        reason = _failure(status, phase, message) if up_to_date else None
        if reason is None and deadline_passed:
            reason = _past_deadline(up_to_date, generation, observed, index, len(steps), phase, message)
        promoted = index is None or index >= len(steps)
        pods_current = status.get("stableRS") is None or status.get("stableRS") == status.get("currentPodHash")
        if reason is not None:
            verdict = RolloutVerdict.FAILED
        elif up_to_date and phase == "Healthy" and promoted and pods_current:
            verdict = RolloutVerdict.HEALTHY
    # Until the controller has seen the new spec, its step and weight are the previous rollout's (a finished one
    # reads its last step): shown as this canary's progress they would run backwards.
    return RolloutStatus(
        name=name,
        phase=phase,
        step_index=index if up_to_date else None,
        step_count=len(steps),
        weight=_weight(status, steps, index) if up_to_date else None,
        message=message,
        verdict=verdict,
        reason=reason,
        images=images,
        up_to_date=up_to_date,
    )


ANALYSIS_RUN_KIND = "AnalysisRun"
_FAILED_MEASUREMENT = ("Failed", "Error", "Inconclusive")


def _readable(value: str) -> str:
    """A measured value as people read it: Prometheus' `[0.7999999999999999]` as `0.8`."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    numbers = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(n, int | float) for n in numbers):
        return value
    return "/".join(f"{n:.3g}" for n in numbers)


def describe_failed_analysis(run: dict[str, Any]) -> str | None:
    """One line from a live AnalysisRun that failed: which metric, what it measured, against which condition.

    e.g. `AnalysisRun api-5f7d-3: success-rate measured 0.8, 0.79 (needs result[0] >= 0.95; 2 failed of 3)`.
    None when the run did not fail (an abort ends a running one Successful, "Run Terminated").
    """
    status = _dict(run.get("status"))
    if status.get("phase") not in _FAILED_MEASUREMENT:
        return None
    name = _dict(run.get("metadata")).get("name", "?")
    conditions = {
        str(metric.get("name")): metric.get("successCondition")
        for metric in _dict(run.get("spec")).get("metrics") or []
        if isinstance(metric, dict)
    }
    parts: list[str] = []
    for result in status.get("metricResults") or []:
        if not isinstance(result, dict) or result.get("phase") not in _FAILED_MEASUREMENT:
            continue
        metric = str(result.get("name", "?"))
        values = [
            _readable(m["value"]) for m in result.get("measurements") or [] if isinstance(m, dict) and m.get("value")
        ]
        condition = conditions.get(metric)
        tally = f"{result.get('failed', 0)} failed of {result.get('count', len(values))}"
        needs = f"needs {condition}; " if condition else ""
        parts.append(f"{metric} measured {', '.join(str(v) for v in values) or 'nothing'} ({needs}{tally})")
    if not parts:
        return f"AnalysisRun {name} {status.get('phase')}: {status.get('message') or 'no measurement detail'}"
    return f"AnalysisRun {name}: " + "; ".join(parts)
