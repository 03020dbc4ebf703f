"""A simulated Argo Rollouts controller: walks a Rollout through its canary steps as the real one does.

Status fields follow argo-rollouts' v1alpha1 types (phase, currentStepIndex, currentPodHash, stableRS,
pauseConditions, abort, canary.currentStepAnalysisRunStatus, observedGeneration as a string, replicas…).
Simulated time runs `speed` times faster than real time. Like the real controller, the first version of a
Rollout goes straight to stable without steps; a later template change runs the steps from index 0.
Rollouts with no analysis of their own get an implicit background analysis, so a failure rule works on any
manifest.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from argocd_standin.rules import FailureRule
from argocd_standin.settings import StandinSettings
from argocd_standin.state import LiveResource

POD_READY_SECONDS = 2.0  # simulated time for canary pods to become ready after a setWeight
ANALYSIS_SECONDS = 5.0  # simulated time an analysis run takes to reach a verdict
DEFAULT_PROGRESS_DEADLINE = 600
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s rand.SafeEncodeString, so hashes look like the real ones
_DURATION_RE = re.compile(r"^(\d+)(s|m|h)?$")


def timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_hash(template: Any) -> str:
    number = int.from_bytes(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()[:4], "big")
    chars = []
    while number:
        number, rest = divmod(number, len(_HASH_ALPHABET))
        chars.append(_HASH_ALPHABET[rest])
    return "".join(chars) or _HASH_ALPHABET[0]


def pause_seconds(value: Any) -> float | None:
    """A pause step's duration (int seconds or "30s"/"5m"/"1h"); None means wait to be resumed."""
    if value is None:
        return None
    match = _DURATION_RE.match(str(value).strip())
    if not match:
        raise ValueError(f"pause duration {value!r} is not like 30, '30s', '5m' or '1h'")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def steps_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list(obj.get("spec", {}).get("strategy", {}).get("canary", {}).get("steps") or [])


def has_background_analysis(obj: dict[str, Any]) -> bool:
    explicit = bool(obj.get("spec", {}).get("strategy", {}).get("canary", {}).get("analysis"))
    return explicit or not any("analysis" in step for step in steps_of(obj))


class RolloutController:
    def __init__(self, settings: StandinSettings) -> None:
        self._settings = settings

    def _after(self, since: float, simulated: float, now: float) -> bool:
        return now >= since + self._settings.scaled(simulated)

    # -- applying a manifest (what a sync does) -------------------------------------------------------

    def apply(self, live: LiveResource, manifest: dict[str, Any], now: float) -> None:
        obj, sim = live.object, live.sim
        new_hash = pod_hash(manifest.get("spec", {}).get("template"))
        status = obj.setdefault("status", {})
        if status and new_hash == status.get("currentPodHash"):
            return
        if not status:
            # First version: the real controller skips the steps and makes it stable at once.
            sim.update(revision=1, ready_at=now + self._settings.scaled(POD_READY_SECONDS))
            status.update(currentPodHash=new_hash, stableRS=new_hash, currentStepIndex=len(steps_of(manifest)))
        else:
            sim["revision"] = int(sim.get("revision", 1)) + 1
            for key in ("abort", "abortedAt", "pauseConditions", "controllerPause", "promoteFull"):
                status.pop(key, None)
            status.update(currentPodHash=new_hash, canary={}, conditions=[])
            if new_hash == status.get("stableRS"):
                # Back to the stable template: a fast rollback, no steps and no analysis.
                status["currentStepIndex"] = len(steps_of(manifest))
                sim["ready_at"] = now
            else:
                status["currentStepIndex"] = 0
        sim.update(step_started=now, progress_since=now, revision_started=now, paused_step=None, abort_message=None)
        annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
        annotations["rollout.argoproj.io/revision"] = str(sim["revision"])

    # -- actions (Argo CD's built-in Rollout actions) -------------------------------------------------

    def act(self, live: LiveResource, action: str, now: float) -> None:
        obj, status = live.object, live.object.setdefault("status", {})
        if action == "abort":
            status.update(abort=True, abortedAt=timestamp(now))
        elif action == "retry":
            status.pop("abort", None)
            status.pop("abortedAt", None)
            status.update(currentStepIndex=0, canary={})
            live.sim.update(step_started=now, progress_since=now, revision_started=now, paused_step=None)
            live.sim["abort_message"] = None
        elif action == "resume":
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            obj["spec"]["paused"] = False
        elif action == "pause":
            obj["spec"]["paused"] = True
        elif action == "promote-full":
            status["promoteFull"] = True
        elif action == "skip-current-step":
            self._advance(live, now)
        else:
            raise ValueError(f"unknown action {action!r} for Rollout")

    # -- the control loop -----------------------------------------------------------------------------

    def reconcile(self, live: LiveResource, now: float, rule: FailureRule | None) -> bool:
        """Move the Rollout one tick on; True when its served state changed."""
        before = copy.deepcopy(live.object)
        self._reconcile(live, now, rule)
        self._replicas(live)
        return live.object != before

    def _reconcile(self, live: LiveResource, now: float, rule: FailureRule | None) -> None:
        obj, sim = live.object, live.sim
        status = obj.setdefault("status", {})
        status["observedGeneration"] = str(obj["metadata"].get("generation", 1))
        steps = steps_of(obj)
        revision = sim.get("revision", 1)
        if status.get("abort"):
            message = sim.get("abort_message") or f"RolloutAborted: Rollout aborted update to revision {revision}"
            status.update(phase="Degraded", message=message)
            status.pop("pauseConditions", None)
            return
        if status.get("promoteFull") or status.get("currentPodHash") == status.get("stableRS"):
            self._promote(live, now, steps)
            return
        if obj["spec"].get("paused"):
            status.update(phase="Paused", message="manually paused")
            sim["progress_since"] = now
            return
        if self._deadline_exceeded(live, now, revision):
            return
        background_fails = rule is not None and rule.mode == "analysis" and has_background_analysis(obj)
        if background_fails and self._after(sim["revision_started"], POD_READY_SECONDS + ANALYSIS_SECONDS, now):
            assert rule is not None
            status["canary"]["currentBackgroundAnalysisRunStatus"] = {
                "name": f"{live.name}-{status['currentPodHash']}-{revision}",
                "status": "Failed",
                "message": rule.message,
            }
            self._abort(live, now, f"RolloutAborted: Rollout aborted update to revision {revision}: {rule.message}")
            return
        index = int(status.get("currentStepIndex", 0))
        if index >= len(steps):
            self._promote(live, now, steps)
            return
        self._step(live, steps[index], index, now, rule)

    def _step(self, live: LiveResource, step: dict[str, Any], index: int, now: float, rule: FailureRule | None) -> None:
        status, sim = live.object["status"], live.sim
        status.update(phase="Progressing", message="more replicas need to be updated")
        if "setWeight" in step:
            stalled = rule is not None and rule.mode == "stall"
            if not stalled and self._after(sim["step_started"], POD_READY_SECONDS, now):
                self._advance(live, now)
        elif "pause" in step:
            duration = pause_seconds((step.get("pause") or {}).get("duration"))
            if sim.get("paused_step") != index:
                sim["paused_step"] = index
                status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": timestamp(now)}]
                status["controllerPause"] = True
            sim["progress_since"] = now  # time paused does not count against the progress deadline
            resumed = not status.get("pauseConditions")
            if resumed or (duration is not None and self._after(sim["step_started"], duration, now)):
                self._advance(live, now)
            else:
                status.update(phase="Paused", message="CanaryPauseStep")
        elif "analysis" in step:
            self._step_analysis(live, index, now, rule)
        else:
            self._advance(live, now)

    def _step_analysis(self, live: LiveResource, index: int, now: float, rule: FailureRule | None) -> None:
        status, sim = live.object["status"], live.sim
        revision = sim.get("revision", 1)
        run = {"name": f"{live.name}-{status['currentPodHash']}-{revision}-{index}", "status": "Running"}
        status["canary"]["currentStepAnalysisRunStatus"] = run
        if not self._after(sim["step_started"], ANALYSIS_SECONDS, now):
            return
        if rule is not None and rule.mode == "analysis":
            run.update(status="Failed", message=rule.message)
            self._abort(
                live,
                now,
                f"RolloutAborted: Rollout aborted update to revision {revision}: "
                f"Step-based analysis phase Failed: {rule.message}",
            )
            return
        run["status"] = "Successful"
        self._advance(live, now)

    def _deadline_exceeded(self, live: LiveResource, now: float, revision: int) -> bool:
        obj, status = live.object, live.object["status"]
        deadline = float(obj["spec"].get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE))
        if not self._after(live.sim["progress_since"], deadline, now):
            return False
        replica_set = f"{live.name}-{status['currentPodHash']}"
        message = f'ProgressDeadlineExceeded: ReplicaSet "{replica_set}" has timed out progress.'
        status["conditions"] = [
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": message,
                "lastUpdateTime": timestamp(now),
                "lastTransitionTime": timestamp(now),
            }
        ]
        status.update(phase="Degraded", message=message)
        if obj["spec"].get("progressDeadlineAbort"):
            self._abort(live, now, f"RolloutAborted: Rollout aborted update to revision {revision}: {message}")
        return True

    def _abort(self, live: LiveResource, now: float, message: str) -> None:
        live.sim["abort_message"] = message
        status = live.object["status"]
        status.update(abort=True, abortedAt=timestamp(now), phase="Degraded", message=message)
        status.pop("pauseConditions", None)
        status.pop("controllerPause", None)

    def _advance(self, live: LiveResource, now: float) -> None:
        status = live.object["status"]
        status["currentStepIndex"] = int(status.get("currentStepIndex", 0)) + 1
        status.pop("pauseConditions", None)
        status.pop("controllerPause", None)
        live.sim.update(step_started=now, progress_since=now, paused_step=None)

    def _promote(self, live: LiveResource, now: float, steps: list[dict[str, Any]]) -> None:
        status, sim = live.object["status"], live.sim
        if status.get("stableRS") != status.get("currentPodHash"):
            sim["ready_at"] = now
        status.pop("promoteFull", None)
        status.pop("pauseConditions", None)
        status.pop("controllerPause", None)
        status.update(stableRS=status["currentPodHash"], currentStepIndex=len(steps))
        if now < float(sim.get("ready_at", now)):
            status.update(phase="Progressing", message="updated replicas are still becoming available")
            return
        status.update(phase="Healthy", message="")
        status["conditions"] = [
            {"type": kind, "status": "True", "reason": reason, "message": text, "lastUpdateTime": timestamp(now)}
            for kind, reason, text in (
                ("Available", "AvailableReason", "Rollout has minimum availability"),
                ("Completed", "RolloutCompleted", "Rollout completed update to revision"),
                ("Healthy", "RolloutHealthy", "Rollout is healthy"),
            )
        ]

    def _replicas(self, live: LiveResource) -> None:
        obj, status = live.object, live.object["status"]
        replicas = int(obj["spec"].get("replicas", 1))
        steps = steps_of(obj)
        index = int(status.get("currentStepIndex", 0))
        if status.get("abort"):
            updated = 0
        elif status.get("stableRS") == status.get("currentPodHash"):
            updated = replicas
        else:
            weights = [int(s["setWeight"]) for s in steps[: index + 1] if "setWeight" in s]
            updated = math.ceil(replicas * (weights[-1] if weights else 0) / 100)
        status.update(
            replicas=replicas,
            updatedReplicas=updated,
            readyReplicas=replicas,
            availableReplicas=replicas,
            selector=f"app={live.name}",
        )
