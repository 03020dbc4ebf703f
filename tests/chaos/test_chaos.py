"""Our own chaos test (issue 12): two services pushed twice through the registry webhook, deployed through staging
and prod (two waves) by three worker processes onto the real Argo CD and Argo Rollouts of the local cluster, while
workers are SIGKILLed at random (with their Pulumi and git children, or alone) and the Temporal dev server restarts
once on its database file. Then what must hold whatever dies: every deployment closed with its outcome, exactly one
DeploymentWorkflow per version, exactly one Deploy commit per version and region and nothing stray, the version
store's standing, a clean Pulumi backend, no workflow task failures (non-determinism), every Application Healthy and
every live Rollout running its region's live version, and no process left behind.

search-api v1.1.0 answers 20% of prod/ap-south-1's requests with 5xx, so its real AnalysisRun fails there on a
Prometheus measurement (while its sibling in that wave may be anywhere) and the rollback of every region it changed
runs under the chaos too. The seed (ROLLWRIGHT_CHAOS_SEED, else random) is printed first and in every failure.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError

from activities.contracts import ActivityName
from devstack.cluster import LocalCluster
from devstack.images import build_image, push_image
from rollwright.domain import search_attributes as sa
from rollwright.domain.deployment import (
    STATUS_QUERY,
    DeploymentOutcome,
    DeploymentResult,
    PipelineStatus,
    pipeline_workflow_id,
)
from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionState, VersionStore
from tests.chaos import facts
from tests.chaos.monkey import Aim, ChaosMonkey, Outage
from tests.chaos.processes import CHAOS_MARKER, wait_until_none_marked
from tests.chaos.stack import (
    OWN_METRICS_REGION,
    PROD_WAVES,
    REGIONS,
    SERVICES,
    TAGS,
    ChaosStack,
    repository,
    start_chaos_stack,
)

SEED_ENV = "ROLLWRIGHT_CHAOS_SEED"
FAILING = ("search-api", "v1.1.0")
FAILING_REGION = OWN_METRICS_REGION
FAILING_ENVIRONMENT = next(env for env, region in REGIONS if region == FAILING_REGION)
FAILING_ERROR_RATIO = 0.2
# What the canary-failed reason names: the check that failed and what it measured (1 - FAILING_ERROR_RATIO), after
# any measurements without a verdict (nan: no answers counted yet).
FAILING_MEASUREMENT = re.compile(r'Metric "success-rate" assessed Failed.*success-rate measured (nan, )*0\.8 \(needs')
FAILING_WAVE = next(index for index, wave in enumerate(PROD_WAVES) if FAILING_REGION in wave)
# The failing region's wave: these may be stopped anywhere once its canary fails.
FAILING_SIBLINGS = set(PROD_WAVES[FAILING_WAVE]) - {FAILING_REGION}
# The waves after it: the failing version never reaches them.
UNREACHED = {region for wave in PROD_WAVES[FAILING_WAVE + 1 :] for region in wave}
EXPECTED = {
    (service, tag): DeploymentOutcome.ROLLED_BACK if (service, tag) == FAILING else DeploymentOutcome.SUCCEEDED
    for service in SERVICES
    for tag in TAGS
}
# From the first push to the last deployment closed: 3.5-5 min seen on 2 cores shared with other test runs, most of it
# Pulumi runs (6-30 s each, by the machine's load) and the heartbeat timeouts of killed workers.
RUN_BUDGET = 540.0
PUSH_SEEN_TIMEOUT = 90.0
# A worker dying under a commit costs its heartbeat timeout (15 s) and the first retry interval (2 s), plus polling.
COMMIT_DELAY_PER_LOST_ATTEMPT = 25.0
LEFTOVER_GRACE = 30.0


def chaos_seed() -> int:
    raw = os.environ.get(SEED_ENV)
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


def image_seed(service: str, tag: str) -> str:
    return f"{service}-{tag}"


def digest_of(service: str, tag: str) -> str:
    return build_image(image_seed(service, tag)).digest


@dataclass
class Run:
    """What every failure message carries: the seed to repeat it, where its logs are, and what the chaos did."""

    seed: int
    workdir: Path
    monkey: ChaosMonkey | None = None

    def say(self, problem: str) -> str:
        chaos = self.monkey.describe() if self.monkey else "  (not started)"
        return (
            f"{problem}\n[chaos seed {self.seed}: rerun with {SEED_ENV}={self.seed}; logs in {self.workdir / 'logs'}]"
            f"\nchaos:\n{chaos}"
        )


@pytest.mark.slow
@pytest.mark.timeout(660)  # the budget, plus the cluster (when this test starts it), the stack and the checks
async def test_rollouts_end_right_while_workers_die_and_temporal_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_cluster: LocalCluster
) -> None:
    seed = chaos_seed()
    print(f"\nchaos seed {seed} (set {SEED_ENV}={seed} to repeat its choices); workdir {tmp_path}", flush=True)
    run = Run(seed=seed, workdir=tmp_path)
    marker = uuid.uuid4().hex
    monkeypatch.setenv(CHAOS_MARKER, marker)
    async with start_chaos_stack(tmp_path, local_cluster) as stack:
        run.monkey = ChaosMonkey(random.Random(seed), stack.workers, stack.temporal, log_file=tmp_path / "chaos.log")
        await _deploy_under_chaos(stack, run.monkey, run)
        problems = await _what_went_wrong(stack, run.monkey)
        assert not problems, run.say("\n".join(problems))

    left = await asyncio.to_thread(wait_until_none_marked, marker, LEFTOVER_GRACE)
    lines = "\n".join(f"  pid {pid}: {cmd[:200]}" for pid, cmd in left)
    assert not left, run.say(f"processes of the run still running after every part stopped:\n{lines}")


# -- the run ----------------------------------------------------------------------------------------


async def _deploy_under_chaos(stack: ChaosStack, monkey: ChaosMonkey, run: Run) -> None:
    """Push both versions of each service while the chaos runs; return once every deployment closed."""
    stop = asyncio.Event()
    chaos = asyncio.create_task(monkey.run(stop))
    scenario = asyncio.create_task(_push_and_wait(stack, monkey, run, deadline=time.monotonic() + RUN_BUDGET))
    await asyncio.wait({chaos, scenario}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    if not scenario.done():
        scenario.cancel()  # the chaos failed: nothing is left to wait for
    # A kill under way ends with its restart, so every worker runs again when the checks start.
    await asyncio.gather(chaos, scenario, return_exceptions=True)
    if chaos.exception() is not None:
        pytest.fail(run.say(f"the chaos could not go on: {chaos.exception()!r}"))
    failure = scenario.exception()
    if isinstance(failure, (AssertionError, pytest.fail.Exception)):
        raise failure
    if failure is not None:
        pytest.fail(run.say(f"pushing and waiting failed: {failure!r}"))


async def _push_and_wait(stack: ChaosStack, monkey: ChaosMonkey, run: Run, *, deadline: float) -> None:
    stack.own_region_traffic.fail(digest_of(*FAILING), FAILING_ERROR_RATIO)
    for tag in TAGS:
        for service in SERVICES:
            pushed = await push_image(stack.registry.url, repository(service), tag, seed=image_seed(service, tag))
            assert pushed == digest_of(service, tag), run.say(f"{service}:{tag} pushed as {pushed}")
        # v1.1.0 arrives while v1.0.0 rolls out: the pipeline queues it and starts it next.
        for service in SERVICES:
            await _until_pipeline_has(stack.client, service, tag, run)
    monkey.allow_temporal_restart()
    await _until_deployments_closed(stack.client, run, deadline=deadline)


async def _until_pipeline_has(client: Client, service: str, tag: str, run: Run) -> None:
    deadline = time.monotonic() + PUSH_SEEN_TIMEOUT
    while time.monotonic() < deadline:
        try:
            status = await client.get_workflow_handle(pipeline_workflow_id(service)).query(
                STATUS_QUERY, result_type=PipelineStatus
            )
        except (RPCError, WorkflowQueryFailedError):
            status = None  # no pipeline yet, or no workflow worker alive right now
        if status is not None:
            versions = [status.current, status.next_up, *status.recent]
            if any(v is not None and v.tag == tag for v in versions):
                return
        await asyncio.sleep(1)
    pytest.fail(run.say(f"the push of {service}:{tag} reached no pipeline within {PUSH_SEEN_TIMEOUT:.0f}s"))


async def _until_deployments_closed(client: Client, run: Run, *, deadline: float) -> None:
    last_report = 0.0
    open_ones: list[str] = ["(none seen yet)"]
    while time.monotonic() < deadline:
        try:
            found = await facts.executions(client, "WorkflowType = 'DeploymentWorkflow'")
        except RPCError:
            found = None  # Temporal is restarting
        if found is not None:
            versions = {_version(e) for e in found}
            open_ones = [f"{e.id} ({e.status.name if e.status else '?'})" for e in found if not _closed(e)]
            if versions >= set(EXPECTED) and not open_ones:
                return
            open_ones += [f"{s}:{t} (not started)" for s, t in sorted(set(EXPECTED) - versions)]
        if time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            print(f"waiting for: {', '.join(open_ones)}", flush=True)
        await asyncio.sleep(1)
    stuck = await _pending_steps(client)
    pytest.fail(run.say(f"deployments still open after {RUN_BUDGET:.0f}s: {', '.join(open_ones)}\n{stuck}"))


async def _pending_steps(client: Client) -> str:
    """What each open deployment waits for, and why its step's last attempt failed: the cause of a stall."""
    lines = []
    for execution in await facts.executions(
        client, "WorkflowType = 'DeploymentWorkflow' AND ExecutionStatus = 'Running'"
    ):
        description = await client.get_workflow_handle(execution.id, run_id=execution.run_id).describe()
        for pending in description.raw_description.pending_activities:
            failure = pending.last_failure.message.replace("\n", " ")[:300]
            lines.append(f"  {execution.id}: {pending.activity_type.name} attempt {pending.attempt}: {failure}")
    return "\n".join(lines)


def _version(execution: WorkflowExecution) -> tuple[str | None, str | None]:
    attributes = execution.typed_search_attributes
    return attributes.get(sa.SERVICE), attributes.get(sa.TAG)


def _closed(execution: WorkflowExecution) -> bool:
    return execution.status not in (None, WorkflowExecutionStatus.RUNNING)


# -- what must hold ---------------------------------------------------------------------------------


async def _what_went_wrong(stack: ChaosStack, monkey: ChaosMonkey) -> list[str]:
    problems = _chaos_happened(monkey)
    deployments = await _check_deployments(stack, problems)
    _check_gitops(stack, deployments, problems)
    _check_version_store(stack, problems)
    _check_pulumi_backend(stack, problems)
    await _check_histories(stack.client, monkey, problems)
    await _check_applications(stack, problems)
    await _check_live_rollouts(stack, problems)
    return problems


def _chaos_happened(monkey: ChaosMonkey) -> list[str]:
    problems = [f"a worker died without being killed: {exit}" for exit in monkey.spontaneous_exits]
    if monkey.outage is None:
        problems.append("the Temporal dev server was never restarted: the deployments closed before it was due")
    if monkey.kills < 3:
        problems.append(f"only {monkey.kills} worker(s) killed: not the chaos this test promises")
    problems.extend(f"no worker was killed {aim.during}" for aim, events in monkey.aimed_kills.items() if not events)
    return problems


async def _check_deployments(stack: ChaosStack, problems: list[str]) -> dict[tuple[str, str], str]:
    """Exactly one DeploymentWorkflow per version, closed with its expected outcome; their workflow ids."""
    client = stack.client
    found = await facts.executions(client, "WorkflowType = 'DeploymentWorkflow'")
    by_version: dict[tuple[str | None, str | None], list[WorkflowExecution]] = defaultdict(list)
    for execution in found:
        by_version[_version(execution)].append(execution)
    stray = set(by_version) - set(EXPECTED)
    if stray:
        problems.append(f"DeploymentWorkflows of versions nobody pushed: {sorted(map(str, stray))}")
    ids: dict[tuple[str, str], str] = {}
    for (service, tag), expected in EXPECTED.items():
        query = f"WorkflowType = 'DeploymentWorkflow' AND {sa.SERVICE.name} = '{service}' AND {sa.TAG.name} = '{tag}'"
        counted = (await client.count_workflows(query)).count
        runs = by_version.get((service, tag), [])
        if counted != 1 or len(runs) != 1:
            problems.append(f"{service}:{tag}: {counted} DeploymentWorkflow(s) by query, {[e.id for e in runs]}")
        if not runs:
            continue
        execution = runs[0]
        ids[(service, tag)] = execution.id
        if execution.status != WorkflowExecutionStatus.COMPLETED:
            problems.append(f"{execution.id}: closed as {execution.status}, not completed")
            continue
        result: DeploymentResult = await client.get_workflow_handle(
            execution.id, run_id=execution.run_id, result_type=DeploymentResult
        ).result()
        if result.outcome != expected:
            problems.append(f"{execution.id}: {result.outcome.value} ({result.reason}), expected {expected.value}")
            if (service, tag) == FAILING:
                problems.extend(await _failing_region_analysis(stack))
        elif expected is DeploymentOutcome.ROLLED_BACK and not _names_the_measurement(result.reason):
            problems.append(f"{execution.id}: rolled back for {result.reason!r}, not its canary's failed measurement")
        attributes = execution.typed_search_attributes
        if attributes.get(sa.OUTCOME) != expected.value or attributes.get(sa.DIGEST) != digest_of(service, tag):
            problems.append(
                f"{execution.id}: search attributes outcome={attributes.get(sa.OUTCOME)} "
                f"digest={attributes.get(sa.DIGEST)}, expected {expected.value} {digest_of(service, tag)}"
            )
    pipelines = await facts.executions(client, "WorkflowType = 'ServicePipelineWorkflow'")
    running = Counter(e.id for e in pipelines if e.status == WorkflowExecutionStatus.RUNNING)
    if running != Counter(pipeline_workflow_id(s) for s in SERVICES):
        problems.append(f"running pipelines {dict(running)}, expected one per service")
    return ids


async def _failing_region_analysis(stack: ChaosStack) -> list[str]:
    """What the failing region's canary checks measured: why a version that should have failed did not."""
    namespace = stack.placement.namespace_of(FAILING_ENVIRONMENT, FAILING_REGION)
    async with stack.cluster.kube() as kube:
        return [f"  AnalysisRun in {namespace}: {line}" for line in await facts.analysis_runs(kube, namespace)]


def _names_the_measurement(reason: str | None) -> bool:
    """Whether a rollback's reason says what a user must know: the region, and what its AnalysisRun measured."""
    return reason is not None and FAILING_REGION in reason and FAILING_MEASUREMENT.search(reason) is not None


def _live_tag(service: str) -> str:
    """The newest version of the service that succeeded: what must run everywhere at the end."""
    return max(tag for tag in TAGS if EXPECTED[(service, tag)] is DeploymentOutcome.SUCCEEDED)


def _check_gitops(stack: ChaosStack, deployments: dict[tuple[str, str], str], problems: list[str]) -> None:
    """One Deploy commit per version and region (at most one in the failed wave, none after it), one Rollback commit
    for each Deploy commit of the rolled-back version, nothing else; and main pins each region to its live digest."""
    remote = stack.gitops_remote
    commits = facts.commits(remote)
    if facts.refs(remote) != ["refs/heads/main"]:
        problems.append(f"GitOps remote has refs {facts.refs(remote)}, expected only refs/heads/main")
    problems.extend(f"stale lock in the GitOps remote: {lock}" for lock in facts.stale_git_locks(remote))
    by_workflow = {workflow_id: version for version, workflow_id in deployments.items()}
    identities = Counter((c.workflow_id, c.target, c.purpose) for c in commits)
    problems.extend(f"commit {key} appears {n} times" for key, n in identities.items() if n > 1)
    count: Counter[tuple[tuple[str, str], str, str]] = Counter()
    for commit in commits:
        version = by_workflow.get(commit.workflow_id or "")
        if version is None or commit.purpose not in ("deploy", "rollback"):
            problems.append(f"stray commit {commit.sha[:10]} {commit.subject!r}: {commit.fields}")
            continue
        count[(version, commit.target or "", commit.purpose)] += 1
        service, tag = version
        want_tag = tag if commit.purpose == "deploy" else TAGS[0]
        if commit.fields.get("Tag") != want_tag or commit.fields.get("Digest") != digest_of(service, want_tag):
            problems.append(f"commit {commit.sha[:10]} {commit.subject!r} names {commit.fields}, expected {want_tag}")
    for (service, tag), outcome in EXPECTED.items():
        for env, region in REGIONS:
            key = RegionTarget(service=service, environment=env, region=region).key
            deploys = count[((service, tag), key, "deploy")]
            rollbacks = count[((service, tag), key, "rollback")]
            if outcome is DeploymentOutcome.SUCCEEDED:
                wanted_deploys, wanted_rollbacks = {1}, {0}
            elif region in FAILING_SIBLINGS:
                # Its sibling's canary failure may have stopped it before or after its commit.
                wanted_deploys, wanted_rollbacks = {0, 1}, {deploys}
            elif region in UNREACHED:
                wanted_deploys, wanted_rollbacks = {0}, {0}
            else:
                wanted_deploys, wanted_rollbacks = {1}, {1}
            if deploys not in wanted_deploys or rollbacks not in wanted_rollbacks:
                problems.append(f"{service}:{tag} in {key}: {deploys} Deploy and {rollbacks} Rollback commit(s)")
    for service in SERVICES:
        live = digest_of(service, _live_tag(service))
        for env, region in REGIONS:
            path = RegionTarget(service=service, environment=env, region=region).gitops_path
            images = facts.rollout_images(remote, path)
            if not images or not all(image.endswith(f"@{live}") for image in images):
                problems.append(f"main:{path} pins {images}, expected {_live_tag(service)} ({live})")


def _check_version_store(stack: ChaosStack, problems: list[str]) -> None:
    with VersionStore(stack.version_store_url) as store:
        for service in SERVICES:
            versions = store.versions(service)
            rows = Counter(v.digest for v in versions)
            wanted = {digest_of(service, tag) for tag in TAGS}
            if set(rows) != wanted or any(n != 1 for n in rows.values()):
                problems.append(f"{service}: version rows {dict(rows)}, expected one per digest of {TAGS}")
            for version in versions:
                expected = _version_state(service, version.tag)
                if version.state is not expected:
                    problems.append(f"{service}:{version.tag} is {version.state.value}, expected {expected.value}")
                bad = store.bad_mark(service, version.digest)
                if (bad is not None) != (expected is VersionState.BAD):
                    problems.append(f"{service}:{version.tag} bad mark: {bad}")
            live = {(r.target.environment, r.target.region): r.digest for r in store.live_regions(service)}
            want_live = dict.fromkeys(REGIONS, digest_of(service, _live_tag(service)))
            if live != want_live:
                problems.append(f"{service}: live digests {live}, expected {_live_tag(service)} in every region")
            unfinished = [
                f"{d.target.key} {d.tag} ({d.workflow_id})"
                for d in store.deployments(service)
                if d.state is RegionState.DEPLOYING
            ]
            if unfinished:
                problems.append(f"{service}: regions still recorded as deploying: {unfinished}")


def _version_state(service: str, tag: str) -> VersionState:
    if EXPECTED[(service, tag)] is DeploymentOutcome.ROLLED_BACK:
        return VersionState.BAD
    return VersionState.LIVE if tag == _live_tag(service) else VersionState.SUPERSEDED


def _check_pulumi_backend(stack: ChaosStack, problems: list[str]) -> None:
    backend = stack.pulumi_backend
    problems.extend(f"Pulumi backend: {p}" for p in facts.pulumi_backend_problems(backend))
    wanted = sorted(
        RegionTarget(service=s, environment=env, region=region).stack_name for s in SERVICES for env, region in REGIONS
    )
    if facts.pulumi_stacks(backend) != wanted:
        problems.append(f"Pulumi stacks {facts.pulumi_stacks(backend)}, expected {wanted}")
    debris = facts.backend_files(backend)
    if debris:
        problems.append(f"Pulumi backend holds files that are no blob nor sidecar: {debris}")


async def _check_histories(client: Client, monkey: ChaosMonkey, problems: list[str]) -> None:
    """No workflow task failed in any run (non-determinism would); what a death during a commit cost."""
    runs = await facts.executions(client)
    histories = await facts.histories(client, runs)
    timed_out = 0
    for run_key, history in histories.items():
        problems.extend(f"{run_key}: workflow task failed: {f}" for f in facts.workflow_task_failures(history))
        timed_out += facts.count_events(history, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
    commits = [
        delay
        for run_key, history in histories.items()
        for delay in facts.step_delays(run_key.split("/")[0], history, ActivityName.COMMIT_MANIFESTS)
    ]
    lost = [c for c in commits if c.lost_to_a_timeout]
    print(
        f"\n{len(runs)} workflow runs, {timed_out} workflow task(s) timed out on dead workers; "
        f"{monkey.kills} kills, {len(monkey.aimed_kills[Aim.COMMIT])} during a commit; "
        f"{len(commits)} commit_manifests, {len(lost)} retried after a timeout:"
    )
    for commit in lost:
        during = " (Temporal restart in between)" if _overlaps(commit, monkey.outage) else ""
        print(
            f"  {commit.workflow_id} {commit.summary!r}: attempt {commit.attempts} started {commit.delay:.1f}s after "
            f"it was scheduled, completed after {commit.completed_at - commit.scheduled_at:.1f}s; "
            f"last failure {commit.last_failure}{during}"
        )
        limit = COMMIT_DELAY_PER_LOST_ATTEMPT * (commit.attempts - 1)
        if not during and commit.delay > limit:
            problems.append(f"{commit.workflow_id} {commit.summary!r} waited {commit.delay:.1f}s (> {limit:.0f}s)")
    if monkey.aimed_kills[Aim.COMMIT] and not lost:
        problems.append("workers were killed during commits, yet no commit_manifests was retried after a timeout")


def _overlaps(delay: facts.StepDelay, outage: Outage | None) -> bool:
    return outage is not None and delay.scheduled_at <= outage.end and outage.start <= delay.final_attempt_started_at


async def _check_applications(stack: ChaosStack, problems: list[str]) -> None:
    """Every Argo CD application ends Healthy: a rollback never leaves a Rollout aborted."""
    for service in SERVICES:
        for env, region in REGIONS:
            name = stack.placement.app_name(service, env, region)
            app = await facts.application(stack.cluster.argocd_url, stack.cluster.argocd_token, name)
            if app is None:
                problems.append(f"Argo CD has no application {name}")
                continue
            health = app.get("status", {}).get("health", {})
            if health.get("status") != "Healthy":
                problems.append(f"Argo CD application {name} is {health}")


async def _check_live_rollouts(stack: ChaosStack, problems: list[str]) -> None:
    """What runs, as the Rollouts controller reports it: each region's Rollout Healthy, not aborted, every replica on
    its live version, no canary left over."""
    async with stack.cluster.kube() as kube:
        for service in SERVICES:
            live = digest_of(service, _live_tag(service))
            for env, region in REGIONS:
                namespace = stack.placement.namespace_of(env, region)
                rollout = await facts.rollout(kube, namespace, service)
                if rollout is None:
                    problems.append(f"no Rollout {namespace}/{service} in the cluster")
                    continue
                if rollout.phase != "Healthy" or rollout.aborted:
                    aborted = ", aborted" if rollout.aborted else ""
                    problems.append(f"Rollout {namespace}/{service} is {rollout.phase}{aborted}: {rollout.message}")
                if rollout.stable_hash != rollout.current_hash:
                    problems.append(
                        f"Rollout {namespace}/{service} still has a canary: stable {rollout.stable_hash}, "
                        f"current {rollout.current_hash}"
                    )
                if not all(image.endswith(f"@{live}") for image in rollout.images):
                    problems.append(
                        f"Rollout {namespace}/{service} runs {rollout.images}, expected {_live_tag(service)} ({live})"
                    )
