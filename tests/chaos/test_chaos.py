"""Our own chaos test (issue 12): two services pushed twice through the registry webhook into their first lane
(staging), promoted lane by lane to prod (two waves) by three worker processes onto the real Argo CD and Argo Rollouts
of the local cluster, while workers are SIGKILLed at random (with their Pulumi and git children, or alone) and the
Temporal dev server restarts once on its database file. Then what must hold whatever dies: one running lane per
service and environment, every deployment closed with its outcome, exactly one DeploymentWorkflow per version and
environment it reached, exactly one Deploy commit per version and region and nothing stray, the version store's
standing, a clean Pulumi backend, no workflow task failures (non-determinism), every Application Healthy and every
live Rollout running its region's live version, and no process left behind.

search-api v1.1.0 answers 20% of prod/ap-south-1's requests with 5xx, so its real AnalysisRun fails there on a
Prometheus measurement (while its sibling in that wave may be anywhere) and the rollback of every region it changed
runs under the chaos too; marked bad, it is rolled back in staging as well, by a `bad_elsewhere` deployment of
staging's lane back to v1.0.0. The seed (ROLLWRIGHT_CHAOS_SEED, else random) is printed first and in every failure.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
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
from rollwright.domain.deployment import STATUS_QUERY, DeploymentKind, DeploymentOutcome, DeploymentResult
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneDeployment, LaneStatus, lane_name, lane_workflow_id
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionState, VersionStore
from tests.chaos import facts
from tests.chaos.monkey import Aim, ChaosMonkey, Outage
from tests.chaos.processes import CHAOS_MARKER, wait_until_none_marked
from tests.chaos.stack import (
    HEARTBEAT_TIMEOUT,
    OWN_METRICS_REGION,
    PROD_WAVES,
    REGIONS,
    RETRY_MAX_INTERVAL,
    SERVICES,
    TAGS,
    ChaosStack,
    repository,
    start_chaos_stack,
)

SEED_ENV = "ROLLWRIGHT_CHAOS_SEED"
# The lanes of each service, in the config's order: pushes go to the first.
ENVIRONMENTS = tuple(dict.fromkeys(env for env, _ in REGIONS))
FIRST_LANE = ENVIRONMENTS[0]


@dataclass(frozen=True, order=True)
class Deployed:
    """What one DeploymentWorkflow is: a version in one environment, and what its lane started it for."""

    service: str
    tag: str
    environment: str
    kind: DeploymentKind = DeploymentKind.ROLL_FORWARD

    def __str__(self) -> str:
        kind = "" if self.kind is DeploymentKind.ROLL_FORWARD else f" ({self.kind.value})"
        return f"{self.service}:{self.tag} in {self.environment}{kind}"


FAILING_REGION = OWN_METRICS_REGION
FAILING_ENVIRONMENT = next(env for env, region in REGIONS if region == FAILING_REGION)
FAILING = Deployed("search-api", "v1.1.0", FAILING_ENVIRONMENT)
# Marked bad where it failed, the failing version is undone in every lane before that one that runs it: a deployment
# of that lane back to the version before it.
UNDONE_ELSEWHERE = [
    Deployed(FAILING.service, TAGS[TAGS.index(FAILING.tag) - 1], env, DeploymentKind.BAD_ELSEWHERE)
    for env in ENVIRONMENTS[: ENVIRONMENTS.index(FAILING_ENVIRONMENT)]
]
FAILING_ERROR_RATIO = 0.2
# What the canary-failed reason names: the check that failed and what it measured (1 - FAILING_ERROR_RATIO), after
# any measurements without a verdict (nan: no answers counted yet).
FAILING_MEASUREMENT = re.compile(r'Metric "success-rate" assessed Failed.*success-rate measured (nan, )*0\.8 \(needs')
FAILING_WAVE = next(index for index, wave in enumerate(PROD_WAVES) if FAILING_REGION in wave)
# The failing region's wave: these may be stopped anywhere once its canary fails.
FAILING_SIBLINGS = set(PROD_WAVES[FAILING_WAVE]) - {FAILING_REGION}
# The waves after it: the failing version never reaches them.
UNREACHED = {region for wave in PROD_WAVES[FAILING_WAVE + 1 :] for region in wave}
EXPECTED: dict[Deployed, DeploymentOutcome] = {
    Deployed(service, tag, env): DeploymentOutcome.ROLLED_BACK
    if Deployed(service, tag, env) == FAILING
    else DeploymentOutcome.SUCCEEDED
    for service in SERVICES
    for tag in TAGS
    for env in ENVIRONMENTS
} | dict.fromkeys(UNDONE_ELSEWHERE, DeploymentOutcome.SUCCEEDED)
# v1.1.0 is pushed only once v1.0.0 runs in the first lane, but a later lane that had not yet screened the first
# lane's offer of v1.0.0 when v1.1.0's came (its workflow workers dead, Temporal down) takes v1.1.0 only: its lane
# must then list v1.0.0 as superseded.
MAY_BE_SUPERSEDED = {Deployed(service, TAGS[0], env) for service in SERVICES for env in ENVIRONMENTS[1:]}
# From the first push to the last deployment closed, most of it Pulumi runs (6-30 s each, by the machine's load) and
# the heartbeat timeouts of killed workers; a generous bound, not the run's expected time.
RUN_BUDGET = 540.0
PUSH_SEEN_TIMEOUT = 90.0
# A worker dying under a commit costs its heartbeat timeout and a retry interval, plus polling and a loaded machine.
COMMIT_DELAY_PER_LOST_ATTEMPT = HEARTBEAT_TIMEOUT + RETRY_MAX_INTERVAL + 8.0
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
    stack.own_region_traffic.fail(digest_of(FAILING.service, FAILING.tag), FAILING_ERROR_RATIO)
    for tag in TAGS:
        for service in SERVICES:
            pushed = await push_image(stack.registry.url, repository(service), tag, seed=image_seed(service, tag))
            assert pushed == digest_of(service, tag), run.say(f"{service}:{tag} pushed as {pushed}")
        # v1.1.0 arrives while v1.0.0 rolls out in the first lane: the lane queues it and starts it next.
        for service in SERVICES:
            await _until_first_lane_runs(stack.client, service, tag, run)
    monkey.allow_temporal_restart()
    await _until_lanes_done(stack.client, run, deadline=deadline)


async def _lane_status(client: Client, service: str, environment: str) -> LaneStatus | None:
    """None when there is no such lane yet, Temporal is down or no workflow worker is alive right now."""
    try:
        status: LaneStatus = await client.get_workflow_handle(lane_workflow_id(service, environment)).query(
            STATUS_QUERY, result_type=LaneStatus
        )
    except (RPCError, WorkflowQueryFailedError):
        return None
    return status


async def _lane_statuses(client: Client) -> dict[tuple[str, str], LaneStatus] | None:
    """Every lane's status by (service, environment); None unless each one answered."""
    found = {}
    for service in SERVICES:
        for env in ENVIRONMENTS:
            status = await _lane_status(client, service, env)
            if status is None:
                return None
            found[(service, env)] = status
    return found


async def _until_first_lane_runs(client: Client, service: str, tag: str, run: Run) -> None:
    """Until the first lane has started deploying the version (or is done with it): a newer push can no longer
    supersede it there."""
    deadline = time.monotonic() + PUSH_SEEN_TIMEOUT
    while time.monotonic() < deadline:
        status = await _lane_status(client, service, FIRST_LANE)
        if status is not None:
            versions = [status.current, *status.recent]
            if any(v is not None and v.tag == tag for v in versions):
                return
        await asyncio.sleep(1)
    pytest.fail(run.say(f"the push of {service}:{tag} started nothing in {FIRST_LANE} within {PUSH_SEEN_TIMEOUT:.0f}s"))


@dataclass(frozen=True)
class Ran:
    """What the lanes ran: each DeploymentWorkflow as its lane and Temporal's visibility know it."""

    lanes: dict[tuple[str, str], LaneStatus]
    executions: list[WorkflowExecution]

    def started_by_lanes(self) -> dict[str, tuple[Deployed, LaneDeployment]]:
        """By workflow id: every deployment a lane lists among its recent ones."""
        return {
            record.workflow_id: (Deployed(service, record.tag, env, record.kind), record)
            for (service, env), status in self.lanes.items()
            for record in status.recent
        }

    def by_deployment(self) -> dict[Deployed, list[WorkflowExecution]]:
        listed = self.started_by_lanes()
        found: dict[Deployed, list[WorkflowExecution]] = defaultdict(list)
        for execution in self.executions:
            if execution.id in listed:
                found[listed[execution.id][0]].append(execution)
        return found

    def unlisted(self) -> list[WorkflowExecution]:
        """DeploymentWorkflows no lane lists: no lane started them, or one forgot it did."""
        listed = self.started_by_lanes()
        return [execution for execution in self.executions if execution.id not in listed]

    def superseded(self, expected: Deployed) -> bool:
        """Whether the lane of `expected` took a newer version before it started this one."""
        status = self.lanes[(expected.service, expected.environment)]
        digest = digest_of(expected.service, expected.tag)
        return any(s.tag == expected.tag and s.digest in (None, digest) for s in status.superseded)

    def missing(self) -> list[Deployed]:
        """Expected deployments that have not run, and that no lane says were superseded before they started."""
        ran = self.by_deployment()
        return [
            expected
            for expected in EXPECTED
            if expected not in ran and not (expected in MAY_BE_SUPERSEDED and self.superseded(expected))
        ]

    def busy_lanes(self) -> list[str]:
        """Lanes with something running or waiting its turn (a rollback, a promotion still to offer)."""
        return [
            lane_name(service, env)
            for (service, env), s in self.lanes.items()
            if s.current or s.next_up or s.next_pin or s.next_rollback or s.promotions
        ]


async def _what_ran(client: Client) -> Ran | None:
    """None while Temporal is down or a lane cannot answer."""
    try:
        executions = await facts.executions(client, "WorkflowType = 'DeploymentWorkflow'")
    except RPCError:
        return None
    lanes = await _lane_statuses(client)
    return None if lanes is None else Ran(lanes=lanes, executions=executions)


async def _until_lanes_done(client: Client, run: Run, *, deadline: float) -> None:
    """Until every expected deployment ran (or its lane superseded it) and closed, and no lane has work left."""
    last_report = 0.0
    waiting: list[str] = ["(nothing answered yet)"]
    while time.monotonic() < deadline:
        ran = await _what_ran(client)
        if ran is not None:
            waiting = [f"{e.id} ({e.status.name if e.status else '?'})" for e in ran.executions if not _closed(e)]
            waiting += [f"{expected} (not started)" for expected in ran.missing()]
            waiting += [f"lane {lane} busy" for lane in ran.busy_lanes()]
            if not waiting:
                return
        if time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            print(f"waiting for: {', '.join(waiting)}", flush=True)
        await asyncio.sleep(1)
    stuck = await _pending_steps(client)
    lanes = await _lane_statuses(client)
    notes = "\n".join(
        f"  lane {lane_name(*lane)}: live {status.live.tag if status.live else None}, ignored {status.ignored[-3:]}"
        for lane, status in (lanes or {}).items()
    )
    pytest.fail(run.say(f"lanes not done after {RUN_BUDGET:.0f}s: {', '.join(waiting)}\n{stuck}\n{notes}"))


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


def _closed(execution: WorkflowExecution) -> bool:
    return execution.status not in (None, WorkflowExecutionStatus.RUNNING)


# -- what must hold ---------------------------------------------------------------------------------


async def _what_went_wrong(stack: ChaosStack, monkey: ChaosMonkey) -> list[str]:
    problems = _chaos_happened(monkey)
    ended = await _check_deployments(stack, problems)
    _check_gitops(stack, ended, problems)
    _check_version_store(stack, ended, problems)
    _check_pulumi_backend(stack, problems)
    await _check_histories(stack.client, monkey, problems)
    await _check_applications(stack, problems)
    await _check_live_rollouts(stack, ended, problems)
    return problems


def _chaos_happened(monkey: ChaosMonkey) -> list[str]:
    problems = [f"a worker died without being killed: {exit}" for exit in monkey.spontaneous_exits]
    if monkey.outage is None:
        problems.append("the Temporal dev server was never restarted: the deployments closed before it was due")
    if monkey.kills < 3:
        problems.append(f"only {monkey.kills} worker(s) killed: not the chaos this test promises")
    problems.extend(f"no worker was killed {aim.during}" for aim, events in monkey.aimed_kills.items() if not events)
    return problems


async def _check_deployments(stack: ChaosStack, problems: list[str]) -> Ended:
    """One running lane per service and environment; exactly one DeploymentWorkflow per version and environment it
    reached (and per rollback a lane ran), closed with its expected outcome; a missing one only when its lane says a
    newer version superseded it before it started."""
    client = stack.client
    ran = await _what_ran(client)
    if ran is None:
        problems.append("the lanes or Temporal's visibility did not answer after the run")
        return Ended(ids={}, skipped=set())
    problems.extend(f"{e.id}: a DeploymentWorkflow no lane lists among its deployments" for e in ran.unlisted())
    by_deployment = ran.by_deployment()
    listed = ran.started_by_lanes()
    stray = sorted(set(by_deployment) - set(EXPECTED))
    problems.extend(f"{d}: ran, though nothing should have ({[e.id for e in by_deployment[d]]})" for d in stray)
    for (service, env), status in ran.lanes.items():
        for superseded in status.superseded:
            never_ran = Deployed(service, superseded.tag, env)
            if never_ran not in MAY_BE_SUPERSEDED or never_ran in by_deployment:
                problems.append(
                    f"lane {lane_name(service, env)} lists {superseded.tag} as superseded by "
                    f"{superseded.superseded_by}, yet it ran there or never could have been"
                )
    ids: dict[str, Deployed] = {}
    skipped: set[Deployed] = set()
    for deployed in sorted(EXPECTED):
        runs = by_deployment.get(deployed, [])
        if not runs and deployed in MAY_BE_SUPERSEDED and ran.superseded(deployed):
            print(f"{deployed}: superseded before it started, as its lane lists", flush=True)
            skipped.add(deployed)
            continue
        if len(runs) != 1:
            problems.append(f"{deployed}: {len(runs)} DeploymentWorkflow(s), {[e.id for e in runs]}")
        if not runs:
            continue
        execution = runs[0]
        ids[execution.id] = deployed
        await _check_deployment(stack, execution, deployed, listed[execution.id][1], problems)
    # Visibility counts them too: what search-attribute filters find, with the kinds of one version summed up.
    for service, tag, env in sorted({(d.service, d.tag, d.environment) for d in EXPECTED}):
        query = (
            f"WorkflowType = 'DeploymentWorkflow' AND {sa.SERVICE.name} = '{service}' AND {sa.TAG.name} = '{tag}' "
            f"AND {sa.ENVIRONMENT.name} = '{env}' AND {sa.LANE.name} = '{lane_name(service, env)}'"
        )
        counted = (await client.count_workflows(query)).count
        wanted = sum(1 for d in ids.values() if (d.service, d.tag, d.environment) == (service, tag, env))
        if counted != wanted:
            problems.append(f"{service}:{tag} in {env}: {counted} DeploymentWorkflow(s) by query, expected {wanted}")
    lanes = await facts.executions(client, "WorkflowType = 'LaneWorkflow'")
    running = Counter(e.id for e in lanes if e.status == WorkflowExecutionStatus.RUNNING)
    wanted_lanes = Counter(lane_workflow_id(service, env) for service in SERVICES for env in ENVIRONMENTS)
    if running != wanted_lanes:
        problems.append(f"running lanes {dict(running)}, expected one per service and environment")
    pipelines = await facts.executions(client, "WorkflowType = 'ServicePipelineWorkflow'")
    problems.extend(f"{e.id}: a per-service pipeline ran, though pushes go to lanes" for e in pipelines)
    return Ended(ids=ids, skipped=skipped)


async def _check_deployment(
    stack: ChaosStack, execution: WorkflowExecution, deployed: Deployed, record: LaneDeployment, problems: list[str]
) -> None:
    expected = EXPECTED[deployed]
    if execution.status != WorkflowExecutionStatus.COMPLETED:
        problems.append(f"{execution.id}: closed as {execution.status}, not completed")
        return
    result: DeploymentResult = await stack.client.get_workflow_handle(
        execution.id, run_id=execution.run_id, result_type=DeploymentResult
    ).result()
    if result.outcome != expected:
        problems.append(f"{execution.id}: {result.outcome.value} ({result.reason}), expected {expected.value}")
        if deployed == FAILING:
            problems.extend(await _failing_region_analysis(stack))
    elif expected is DeploymentOutcome.ROLLED_BACK and not _names_the_measurement(result.reason):
        problems.append(f"{execution.id}: rolled back for {result.reason!r}, not its canary's failed measurement")
    if record.outcome != result.outcome:
        problems.append(f"{execution.id}: its lane records it {record.outcome}, it ended {result.outcome.value}")
    attributes = execution.typed_search_attributes
    found = {key.name: attributes.get(key) for key in (sa.OUTCOME, sa.DIGEST, sa.ENVIRONMENT, sa.LANE)}
    wanted = {
        sa.OUTCOME.name: expected.value,
        sa.DIGEST.name: digest_of(deployed.service, deployed.tag),
        sa.ENVIRONMENT.name: deployed.environment,
        sa.LANE.name: lane_name(deployed.service, deployed.environment),
    }
    if found != wanted:
        problems.append(f"{execution.id}: search attributes {found}, expected {wanted}")


async def _failing_region_analysis(stack: ChaosStack) -> list[str]:
    """What the failing region's canary checks measured: why a version that should have failed did not."""
    namespace = stack.placement.namespace_of(FAILING_ENVIRONMENT, FAILING_REGION)
    async with stack.cluster.kube() as kube:
        return [f"  AnalysisRun in {namespace}: {line}" for line in await facts.analysis_runs(kube, namespace)]


def _names_the_measurement(reason: str | None) -> bool:
    """Whether a rollback's reason says what a user must know: the region, and what its AnalysisRun measured."""
    return reason is not None and FAILING_REGION in reason and FAILING_MEASUREMENT.search(reason) is not None


def _is_bad(service: str, tag: str) -> bool:
    return (service, tag) == (FAILING.service, FAILING.tag)


@dataclass(frozen=True)
class Ended:
    """What ran, and so what each region must end on."""

    ids: dict[str, Deployed]  # the DeploymentWorkflows by workflow id
    skipped: set[Deployed]  # superseded in their lane before they started

    def went_live(self, service: str, env: str, tags: Sequence[str] = TAGS) -> list[str]:
        """Of `tags`, those that went live in the lane, oldest first."""
        return [
            tag
            for tag in tags
            if (deployed := Deployed(service, tag, env)) not in self.skipped
            and EXPECTED[deployed] is DeploymentOutcome.SUCCEEDED
        ]

    def ends_on(self, service: str, env: str) -> str | None:
        """The lane's newest version that went live there and is not bad (one that is was rolled back, bad
        elsewhere); None when none did, so its regions were removed."""
        good = [tag for tag in self.went_live(service, env) if not _is_bad(service, tag)]
        return good[-1] if good else None

    def before(self, deployed: Deployed) -> str | None:
        """What ran in the lane before `deployed` (None: nothing, a first deploy)."""
        earlier = self.went_live(deployed.service, deployed.environment, TAGS[: TAGS.index(deployed.tag)])
        return earlier[-1] if earlier else None


def _check_gitops(stack: ChaosStack, ended: Ended, problems: list[str]) -> None:
    """Per deployment and region of its environment: one Deploy commit of a rollout that succeeded; of the failed
    one, at most one in the failed wave, none after it, and an undo commit (back to what ran before, or a removal
    after a first deploy) for each Deploy commit; one Rollback commit of a rollback; nothing else. And main pins
    each region to the version it ends on."""
    remote = stack.gitops_remote
    commits = facts.commits(remote)
    if facts.refs(remote) != ["refs/heads/main"]:
        problems.append(f"GitOps remote has refs {facts.refs(remote)}, expected only refs/heads/main")
    problems.extend(f"stale lock in the GitOps remote: {lock}" for lock in facts.stale_git_locks(remote))
    identities = Counter((c.workflow_id, c.target, c.purpose) for c in commits)
    problems.extend(f"commit {key} appears {n} times" for key, n in identities.items() if n > 1)
    count: Counter[tuple[Deployed, str, str]] = Counter()
    for commit in commits:
        deployed = ended.ids.get(commit.workflow_id or "")
        purpose = commit.purpose or ""
        if deployed is None or purpose not in _commit_tags(ended, deployed):
            problems.append(f"stray commit {commit.sha[:10]} {commit.subject!r}: {commit.fields}")
            continue
        count[(deployed, commit.target or "", purpose)] += 1
        want_tag = _commit_tags(ended, deployed)[purpose]
        want = (want_tag, digest_of(deployed.service, want_tag)) if want_tag else ("-", "-")
        if (commit.fields.get("Tag"), commit.fields.get("Digest")) != want:
            problems.append(f"commit {commit.sha[:10]} {commit.subject!r} names {commit.fields}, expected {want}")
    for deployed in sorted(set(ended.ids.values())):
        undo = _undo_purpose(ended, deployed)
        for env, region in REGIONS:
            if env != deployed.environment:
                continue
            key = RegionTarget(service=deployed.service, environment=env, region=region).key
            deploys = count[(deployed, key, "deploy")]
            undos = count[(deployed, key, undo)]
            if deployed.kind is DeploymentKind.BAD_ELSEWHERE:
                # A rollback deploys nothing forward: one Rollback commit per region that ran the bad version.
                wanted_deploys, wanted_undos = {0}, {1}
            elif EXPECTED[deployed] is DeploymentOutcome.SUCCEEDED:
                wanted_deploys, wanted_undos = {1}, {0}
            elif region in FAILING_SIBLINGS:
                # Its sibling's canary failure may have stopped it before or after its commit.
                wanted_deploys, wanted_undos = {0, 1}, {deploys}
            elif region in UNREACHED:
                wanted_deploys, wanted_undos = {0}, {0}
            else:
                wanted_deploys, wanted_undos = {1}, {1}
            if deploys not in wanted_deploys or undos not in wanted_undos:
                problems.append(f"{deployed} in {key}: {deploys} deploy and {undos} {undo} commit(s)")
    for service in SERVICES:
        for env, region in REGIONS:
            path = RegionTarget(service=service, environment=env, region=region).gitops_path
            images = facts.rollout_images(remote, path)
            tag = ended.ends_on(service, env)
            if tag is None:
                if images:
                    problems.append(f"main:{path} pins {images}, expected no Rollout (nothing went live there)")
            elif not images or not all(image.endswith(f"@{digest_of(service, tag)}") for image in images):
                problems.append(f"main:{path} pins {images}, expected {tag} ({digest_of(service, tag)})")


def _undo_purpose(ended: Ended, deployed: Deployed) -> str:
    """The purpose of the commit that undoes a region of `deployed`: back to what ran before, or its removal."""
    if deployed.kind is DeploymentKind.BAD_ELSEWHERE or ended.before(deployed) is not None:
        return "rollback"
    return "remove"


def _commit_tags(ended: Ended, deployed: Deployed) -> dict[str, str | None]:
    """The commits `deployed` may make, by purpose, and the version each names (None: no image)."""
    if deployed.kind is DeploymentKind.BAD_ELSEWHERE:
        return {"rollback": deployed.tag}
    return {"deploy": deployed.tag, _undo_purpose(ended, deployed): ended.before(deployed)}


def _check_version_store(stack: ChaosStack, ended: Ended, problems: list[str]) -> None:
    with VersionStore(stack.version_store_url) as store:
        for service in SERVICES:
            versions = store.versions(service)
            rows = Counter(v.digest for v in versions)
            wanted = {digest_of(service, tag) for tag in TAGS}
            if set(rows) != wanted or any(n != 1 for n in rows.values()):
                problems.append(f"{service}: version rows {dict(rows)}, expected one per digest of {TAGS}")
            for version in versions:
                expected = _version_state(ended, service, version.tag)
                if version.state is not expected:
                    problems.append(f"{service}:{version.tag} is {version.state.value}, expected {expected.value}")
                bad = store.bad_mark(service, version.digest)
                if (bad is not None) != (expected is VersionState.BAD):
                    problems.append(f"{service}:{version.tag} bad mark: {bad}")
            live = {(r.target.environment, r.target.region): r.digest for r in store.live_regions(service)}
            ends_on = {(env, region): ended.ends_on(service, env) for env, region in REGIONS}
            want_live = {where: digest_of(service, tag) for where, tag in ends_on.items() if tag is not None}
            if live != want_live:
                problems.append(f"{service}: live digests {live}, expected {ends_on}")
            unfinished = [
                f"{d.target.key} {d.tag} ({d.workflow_id})"
                for d in store.deployments(service)
                if d.state is RegionState.DEPLOYING
            ]
            if unfinished:
                problems.append(f"{service}: regions still recorded as deploying: {unfinished}")


def _version_state(ended: Ended, service: str, tag: str) -> VersionState:
    if _is_bad(service, tag):
        return VersionState.BAD
    live = any(ended.ends_on(service, env) == tag for env in ENVIRONMENTS)
    return VersionState.LIVE if live else VersionState.SUPERSEDED


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


async def _check_live_rollouts(stack: ChaosStack, ended: Ended, problems: list[str]) -> None:
    """What runs, as the Rollouts controller reports it: each region's Rollout Healthy, not aborted, every replica on
    the version the region ends on, no canary left over; no Rollout where nothing went live (removed)."""
    async with stack.cluster.kube() as kube:
        for service in SERVICES:
            for env, region in REGIONS:
                namespace = stack.placement.namespace_of(env, region)
                rollout = await facts.rollout(kube, namespace, service)
                tag = ended.ends_on(service, env)
                if tag is None:
                    if rollout is not None:
                        problems.append(f"Rollout {namespace}/{service} runs {rollout.images}: nothing went live there")
                    continue
                live = digest_of(service, tag)
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
                    problems.append(f"Rollout {namespace}/{service} runs {rollout.images}, expected {tag} ({live})")
