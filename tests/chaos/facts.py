"""What a chaos run left behind, read from the real parts: Temporal's visibility and histories, the GitOps remote,
the Pulumi file backend, Argo CD's Applications and the live Rollouts in the cluster. The test decides what is right;
these only read."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecution, WorkflowHistory

from activities.contracts import ActivityName
from devstack.cluster.kube import KubeApi, object_path
from rollwright.gitops.message import PURPOSE_TRAILER, TARGET_TRAILER, WORKFLOW_TRAILER

# -- Temporal ---------------------------------------------------------------------------------------


async def executions(client: Client, query: str = "") -> list[WorkflowExecution]:
    return [execution async for execution in client.list_workflows(query)]


async def histories(client: Client, found: list[WorkflowExecution]) -> dict[str, WorkflowHistory]:
    """Every run's history, by `workflow_id/run_id`."""
    return {
        f"{e.id}/{e.run_id}": await client.get_workflow_handle(e.id, run_id=e.run_id).fetch_history() for e in found
    }


def workflow_task_failures(history: WorkflowHistory) -> list[str]:
    """Each WorkflowTaskFailed event: a non-determinism error or a workflow code bug (or a benign server race)."""
    failures = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            cause = WorkflowTaskFailedCause.Name(attrs.cause)
            failures.append(f"event {event.event_id} {cause}: {attrs.failure.message[:300]}")
    return failures


def count_events(history: WorkflowHistory, event_type: EventType.ValueType) -> int:
    return sum(1 for event in history.events if event.event_type == event_type)


@dataclass(frozen=True)
class StepDelay:
    """One activity run, from its scheduling to the attempt that completed it."""

    workflow_id: str
    summary: str
    scheduled_at: float  # wall clock
    final_attempt_started_at: float
    completed_at: float
    attempts: int
    last_failure: str

    @property
    def delay(self) -> float:
        """How long the step waited for the attempt that succeeded: what dead workers cost it."""
        return self.final_attempt_started_at - self.scheduled_at

    @property
    def lost_to_a_timeout(self) -> bool:
        return self.attempts > 1 and "timeout" in self.last_failure.lower()


def _seconds(event: HistoryEvent) -> float:
    return float(event.event_time.ToMicroseconds()) / 1e6


def step_delays(workflow_id: str, history: WorkflowHistory, activity: ActivityName) -> list[StepDelay]:
    scheduled: dict[int, HistoryEvent] = {}
    started: dict[int, HistoryEvent] = {}
    found = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == activity.value:
                scheduled[event.event_id] = event
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = event
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
            if scheduled_id not in scheduled:
                continue
            start = started[scheduled_id]
            start_attrs = start.activity_task_started_event_attributes
            found.append(
                StepDelay(
                    workflow_id=workflow_id,
                    summary=scheduled[scheduled_id].user_metadata.summary.data.decode(errors="replace").strip('"'),
                    scheduled_at=_seconds(scheduled[scheduled_id]),
                    final_attempt_started_at=_seconds(start),
                    completed_at=_seconds(event),
                    attempts=start_attrs.attempt,
                    last_failure=_describe_failure(start_attrs.last_failure),
                )
            )
    return found


def _describe_failure(failure: Any) -> str:
    if not failure.message and not failure.HasField("timeout_failure_info"):
        return ""
    if failure.HasField("timeout_failure_info"):
        return f"{TimeoutType.Name(failure.timeout_failure_info.timeout_type)}: {failure.message}"
    return str(failure.message)


# -- the GitOps remote ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    fields: dict[str, str]  # body lines `Key: value` (Service, Tag, Digest) and the Rollwright trailers

    @property
    def workflow_id(self) -> str | None:
        return self.fields.get(WORKFLOW_TRAILER)

    @property
    def target(self) -> str | None:
        return self.fields.get(TARGET_TRAILER)

    @property
    def purpose(self) -> str | None:
        return self.fields.get(PURPOSE_TRAILER)


def _git(remote: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(remote), *args], capture_output=True, text=True, check=True).stdout


def commits(remote: Path) -> list[Commit]:
    """Every commit on every ref of the remote, oldest first."""
    out = _git(remote, "log", "--all", "--reverse", "--format=%H%x00%s%x00%B%x1e")
    found = []
    for record in filter(str.strip, out.split("\x1e")):
        sha, subject, body = record.strip().split("\x00", 2)
        fields = {}
        for line in body.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                fields[key.strip()] = value.strip()
        found.append(Commit(sha=sha, subject=subject, fields=fields))
    return found


def refs(remote: Path) -> list[str]:
    return _git(remote, "for-each-ref", "--format=%(refname)").split()


def rollout_images(remote: Path, path: str) -> list[str]:
    """The images of the Rollout at `path`/rollout.yaml on main (none when the region has no Rollout there)."""
    try:
        rollout = yaml.safe_load(_git(remote, "show", f"main:{path}/rollout.yaml"))
    except subprocess.CalledProcessError:
        return []
    return [str(c["image"]) for c in rollout["spec"]["template"]["spec"]["containers"]]


def stale_git_locks(remote: Path) -> list[str]:
    """Lock files a killed git left in the remote (a ref or index lock blocks every later push)."""
    return sorted(str(p.relative_to(remote)) for p in remote.rglob("*.lock"))


# -- the Pulumi file backend ------------------------------------------------------------------------

_SIDECAR = ".attrs"


def pulumi_backend_problems(backend: Path) -> list[str]:
    """Locks left behind, `.attrs` sidecars without their blob, and stack checkpoints with pending operations."""
    meta = backend / ".pulumi"
    problems = [f"lock left: {p.relative_to(backend)}" for p in sorted((meta / "locks").rglob("*")) if p.is_file()]
    for sidecar in sorted(meta.rglob(f"*{_SIDECAR}")):
        if not sidecar.with_name(sidecar.name.removesuffix(_SIDECAR)).exists():
            problems.append(f".attrs without its blob: {sidecar.relative_to(backend)}")
    for checkpoint in sorted((meta / "stacks").rglob("*.json")):
        latest = (json.loads(checkpoint.read_text()).get("checkpoint") or {}).get("latest") or {}
        pending = latest.get("pending_operations") or []
        if pending:
            described = [f"{op.get('type')} {op.get('resource', {}).get('urn')}" for op in pending]
            problems.append(f"pending operations in {checkpoint.relative_to(backend)}: {described}")
    return problems


def pulumi_stacks(backend: Path) -> list[str]:
    return sorted(p.name.removesuffix(".json") for p in (backend / ".pulumi" / "stacks").rglob("*.json"))


def backend_files(backend: Path) -> list[str]:
    """Every file of the backend that is neither a known blob nor its sidecar kind (temporary files, debris)."""
    known = (".json", ".json.attrs", ".bak", ".bak.attrs", ".gz", ".gz.attrs", ".yaml", ".yaml.attrs")
    return sorted(str(p.relative_to(backend)) for p in backend.rglob("*") if p.is_file() and not p.name.endswith(known))


# -- Argo CD and the cluster ------------------------------------------------------------------------


async def application(url: str, token: str, name: str) -> dict[str, Any] | None:
    """The Application as Argo CD's API shows it; None when there is no such Application."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        response = await http.get(f"/api/v1/applications/{name}")
    if response.status_code == httpx.codes.NOT_FOUND:
        return None
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


@dataclass(frozen=True)
class LiveRollout:
    """A Rollout as the Argo Rollouts controller last reported it."""

    phase: str | None
    message: str
    aborted: bool
    images: list[str]
    stable_hash: str | None  # the ReplicaSet the controller counts as stable
    current_hash: str | None  # the one the spec's template makes: another while a canary is under way


async def rollout(kube: KubeApi, namespace: str, name: str) -> LiveRollout | None:
    found = await kube.get_or_none(object_path("argoproj.io/v1alpha1", "Rollout", name, namespace))
    if found is None:
        return None
    status = found.get("status") or {}
    containers = found["spec"]["template"]["spec"]["containers"]
    return LiveRollout(
        phase=status.get("phase"),
        message=str(status.get("message") or ""),
        aborted=bool(status.get("abort")),
        images=[str(c["image"]) for c in containers],
        stable_hash=status.get("stableRS"),
        current_hash=status.get("currentPodHash"),
    )


async def analysis_runs(kube: KubeApi, namespace: str) -> list[str]:
    """Each AnalysisRun of the namespace in a line: what it measured when, and how it ended (oldest first)."""
    found = await kube.get(object_path("argoproj.io/v1alpha1", "AnalysisRun", namespace=namespace))
    lines = []
    for run in sorted(found.get("items", []), key=lambda r: str(r["metadata"].get("creationTimestamp"))):
        status = run.get("status") or {}
        measured = [
            f"{m.get('startedAt', '?')[11:19]} {m.get('phase')} {m.get('value', '')} {m.get('message', '')}".strip()
            for result in status.get("metricResults") or []
            for m in result.get("measurements") or []
        ]
        lines.append(
            f"{run['metadata']['name']} created {run['metadata'].get('creationTimestamp')}: {status.get('phase')} "
            f"{status.get('message', '')}; measurements: {'; '.join(measured) or 'none'}"
        )
    return lines
