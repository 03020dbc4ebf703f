"""What an Argo Rollouts `Rollout` object says about its canary: a pure reading of its spec and status.

Field meanings follow argo-rollouts' v1alpha1 types: `status.phase` is Healthy, Progressing, Paused or
Degraded; `currentStepIndex` points at the step being executed (== number of steps once promoted); an
aborted rollout has `status.abort` set; step analysis results sit in `status.canary.currentStepAnalysisRunStatus`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

FAILED_ANALYSIS = ("Failed", "Error")


class RolloutVerdict(StrEnum):
    PROGRESSING = "progressing"
    HEALTHY = "healthy"
    FAILED = "failed"


class RolloutStatus(BaseModel):
    name: str
    phase: str | None = None
    step_index: int | None = None
    step_count: int = 0
    weight: int | None = None
    message: str | None = None
    verdict: RolloutVerdict
    reason: str | None = Field(default=None, description="why the canary failed, for people")
    images: list[str] = Field(default_factory=list)
    up_to_date: bool = Field(description="the controller has seen the current spec (observedGeneration)")

    def runs(self, digest: str) -> bool:
        return any(image.endswith(f"@{digest}") for image in self.images)


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


def interpret_rollout(rollout: dict[str, Any], *, deadline_passed: bool = False) -> RolloutStatus:
    """Read a live Rollout. `deadline_passed` is the caller's own progress deadline (the object's is in status)."""
    metadata = _dict(rollout.get("metadata"))
    spec = _dict(rollout.get("spec"))
    status = _dict(rollout.get("status"))
    steps = _steps(spec)
    raw_index = status.get("currentStepIndex")
    index = raw_index if isinstance(raw_index, int) else None
    phase = status.get("phase") if isinstance(status.get("phase"), str) else None
    message = status.get("message") or None
    generation, observed = metadata.get("generation"), status.get("observedGeneration")
    up_to_date = generation is None or observed is None or str(generation) == str(observed)

    reason: str | None = None
    if up_to_date:
        analysis = _analysis_failure(status)
        if analysis:
            # The controller's abort message usually repeats the analysis message; say it once.
            reason = analysis if not message or analysis.split(": ", 1)[-1] in message else f"{analysis} ({message})"
        elif status.get("abort"):
            # Just after an abort the controller may not have rewritten the message yet (it still names the pause).
            aborted = message is not None and message.startswith(ABORTED_REASON)
            reason = message if aborted else f"{ABORTED_REASON}: the rollout was aborted"
        elif phase == "Degraded":
            reason = message or "rollout degraded"
    if reason is None and deadline_passed:
        where = f"at step {index}/{len(steps)}" if index is not None else f"in phase {phase or 'unknown'}"
        reason = f"progress deadline passed {where}" + (f": {message}" if message else "")

    promoted = index is None or index >= len(steps)
    pods_current = status.get("stableRS") is None or status.get("stableRS") == status.get("currentPodHash")
    if reason is not None:
        verdict = RolloutVerdict.FAILED
    elif up_to_date and phase == "Healthy" and promoted and pods_current:
        verdict = RolloutVerdict.HEALTHY
    else:
        verdict = RolloutVerdict.PROGRESSING
    return RolloutStatus(
        name=str(metadata.get("name", "")),
        phase=phase,
        step_index=index,
        step_count=len(steps),
        weight=_weight(status, steps, index),
        message=message,
        verdict=verdict,
        reason=reason,
        images=_images(spec),
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
