"""Hand a commit to Argo CD and follow its Rollout to an outcome: sync, wait for the revision, watch the canary.

A failed canary is an outcome, not an exception: `follow` returns it. Exceptions mean Argo CD could not be
asked (auth, missing app, still unavailable after its budget), which the caller may retry.

The client sends each request once; this is the one place that waits for Argo CD to come right, always with
stamina and within a budget FollowSettings states: Argo CD unavailable during one call, and a sync that meets an
operation already running. Looking at the Application and the Rollout again and again is not a retry: it ends
with the Rollout's verdict or with the progress deadline.

When to look again is Argo CD's watch streams' to say (rollwright.argocd.watch): the application stream while the
sync runs, the resource-tree stream while the canary does, so a change is seen as soon as Argo CD knows it. Each
look is still a full read judged by rollout_status alone; the streams only say when. While a stream is down the
follower polls every `poll_interval` instead, and its progress says so (`stream: down, polling`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

import stamina
from pydantic import BaseModel, Field

from rollwright.argocd.client import ApplicationPlacement, ArgoCDClient
from rollwright.argocd.errors import (
    ArgoCDError,
    ArgoCDNotFoundError,
    ArgoCDPermissionError,
    ArgoCDRequestError,
    ArgoCDUnavailableError,
    OperationInProgressError,
    UnjudgeableRolloutError,
)
from rollwright.argocd.models import Application, ApplicationTree, ApplicationWatchEvent, ResourceRef
from rollwright.argocd.rollout_status import (
    ANALYSIS_RUN_KIND,
    RolloutStatus,
    RolloutVerdict,
    describe_failed_analysis,
    interpret_rollout,
)
from rollwright.argocd.watch import News, StreamOpener, StreamSettings, StreamState, Watch
from rollwright.http_settings import FrozenSettings
from rollwright.observability.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")
E = TypeVar("E")
ROLLOUT_GROUP, ROLLOUT_KIND = "argoproj.io", "Rollout"
# How long the first read waits for the resource-tree stream's request to be out, so no change falls between them.
_LISTENING_TIMEOUT = 1.0
_DELETED = "DELETED"
_NOT_YET_MANAGED = "not found as part of application"
NO_ROLLOUT = "synced; the application has no Rollout"


def _no_rollout(app: str, revision: str) -> FollowOutcome:
    """Synced to a revision without a Rollout (a removed region): nothing to follow, and nothing wrong."""
    log.info("application synced with no Rollout to follow", app=app, revision=revision)
    return FollowOutcome(healthy=True, reason=NO_ROLLOUT, revision=revision)


def _rollout_version(tree: ApplicationTree, ref: ResourceRef) -> str | None:
    """The resourceVersion the tree shows for the followed Rollout; None if it shows none or lacks the Rollout."""
    for node in tree.managed(ROLLOUT_GROUP, ROLLOUT_KIND):
        if (node.namespace, node.name) == (ref.namespace, ref.name):
            return node.resource_version
    return None


class WaitBudget(FrozenSettings):
    """How long one call is tried again while it fails in a way that passes by itself.

    The first wait is the follower's poll interval; waits double, with jitter, up to `max_wait`. No try starts
    after `seconds`, so the whole wait is at most seconds + max_wait + one more call.
    """

    seconds: float = Field(gt=0)
    max_wait: float = Field(gt=0)


class FollowSettings(FrozenSettings):
    """How a hand-off follows Argo CD, and the two budgets within which it waits for Argo CD to come right.

    Past a budget the call's error goes to the caller (the activity: a retryable failure for Temporal, whose
    next attempt syncs again and follows on). With the defaults, and R the worst one request can take (35.5 s
    with the client's defaults and a 10 s timeout), one call rides out an unavailable Argo CD for at most
    U = 30 + 5 + R = 70.5 s, and a sync waits for another operation for at most O = 120 + 5 + U = 195.5 s.
    No wait for the next look outlasts the progress deadline, so a hand-off ends at most poll + U + O = 268 s
    after it (or after the first sync, if that alone outlasts it): within the workflow's 5 min hand-off margin.
    """

    # How often the follower looks while a watch stream is down (or streams are off); also the first wait of a retry.
    poll_interval: float = Field(default=2.0, gt=0)
    stream: StreamSettings = StreamSettings()
    # 5xx, 429, timeouts or no connection during one call: Argo CD restarting, a proxy timing out. Once this
    # hand-off's sync was accepted, also a 403: a freshly (re)started argocd-server passes its health check before
    # it has loaded its RBAC policy, and denies every request until it has (seen with Argo CD 3.2.11).
    unavailable: WaitBudget = WaitBudget(seconds=30.0, max_wait=5.0)
    # A sync that meets another operation (an auto-sync, someone's manual sync) waits for it to end.
    operation_in_progress: WaitBudget = WaitBudget(seconds=120.0, max_wait=5.0)
    sync_attempts: int = Field(default=3, ge=1, description="syncs Argo CD reports Failed before we give up")


class Stage(StrEnum):
    SYNCING = "syncing"
    FOLLOWING = "following"


class FollowProgress(BaseModel):
    """What a hand-off reports while it runs (heartbeat details, log lines)."""

    app: str
    revision: str
    stage: Stage
    rollout: str | None = None
    phase: str | None = None
    step_index: int | None = None
    step_count: int | None = None
    weight: int | None = None
    message: str | None = None
    # How the watch stream the follower waits on is doing: "connecting", "up", "down, polling" while it reconnects,
    # or "off, polling" when streams are turned off; None before the first one opens.
    stream: StreamState | None = None


class FollowOutcome(BaseModel):
    healthy: bool
    reason: str | None = None
    revision: str
    rollout: str | None = None
    step_index: int | None = None
    weight: int | None = None


def same_revision(actual: str | None, expected: str) -> bool:
    """Argo CD reports full SHAs; accept an abbreviated expected SHA too."""
    if not actual:
        return False
    actual, expected = actual.lower(), expected.lower()
    return actual == expected or (len(expected) >= 7 and actual.startswith(expected))


class RolloutFollower:
    def __init__(
        self,
        client: ArgoCDClient,
        settings: FollowSettings,
        on_progress: Callable[[FollowProgress], None] = lambda _: None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._on_progress = on_progress
        self._last: FollowProgress | None = None
        self._stream: StreamState | None = None
        # Set once Argo CD accepted this hand-off's sync: the token may act on the app, so a later 403 is the server's
        # passing state, not our permission. Before that a 403 is a person's to fix, and raised at once.
        self._authorized = False

    def _progress(self, progress: FollowProgress) -> None:
        self._last = progress.model_copy(update={"stream": self._stream})
        self._on_progress(self._last)

    def _stream_changed(self, state: StreamState) -> None:
        self._stream = state
        if self._last is not None:
            self._progress(self._last)

    def _watch(self, name: str, opener: StreamOpener[E]) -> Watch[E]:
        watch = Watch(name, opener, self._settings.stream, on_state=self._stream_changed)
        self._stream = watch.state
        return watch

    async def _news(
        self, watch: Watch[E], deadline: float, matters: Callable[[E], bool] = lambda _: True, *, polling: bool = False
    ) -> News[E]:
        """Wait for news from the stream that `matters`, or until it is time to look anyway: every poll_interval
        while the stream is down (or `polling`), every recheck while it is up, and at the progress deadline."""
        since = time.monotonic()
        while True:
            # From the start of this wait, so a stream of events that do not matter never puts the next look off.
            interval = self._settings.stream.recheck if watch.up and not polling else self._settings.poll_interval
            news = await watch.wait(min(since + interval, deadline) - time.monotonic())
            if news.stale or any(matters(event) for event in news.events):
                return news

    async def _read_application(self, app: str) -> Application:
        return await self._tolerant(lambda: self._client.get_application(app, refresh="normal"))

    async def _within(
        self,
        budget: WaitBudget,
        on: type[ArgoCDError] | tuple[type[ArgoCDError], ...],
        call: Callable[[], Awaitable[T]],
    ) -> T:
        """`call()`, tried again while it raises `on` and `budget` lasts; then that error, saying how long we tried."""
        try:
            async for attempt in stamina.retry_context(
                on=on,
                attempts=None,
                timeout=budget.seconds,
                wait_initial=self._settings.poll_interval,
                wait_max=budget.max_wait,
                wait_jitter=self._settings.poll_interval,
            ):
                with attempt:
                    try:
                        return await call()
                    except on as exc:
                        # Progress while waiting too, so the caller's liveness check (a heartbeat) keeps passing.
                        if self._last is not None:
                            self._on_progress(self._last.model_copy(update={"message": f"waiting: {exc.message}"}))
                        raise
        except on as exc:
            raise type(exc)(f"{exc.message} (still so after {budget.seconds:g} s)", status=exc.status) from exc
        raise AssertionError("stamina ends every retry context by returning or raising")

    async def _tolerant(self, call: Callable[[], Awaitable[T]]) -> T:
        """Ride out Argo CD being unavailable for a while: one lost poll is not a failed deployment."""
        passing = (ArgoCDUnavailableError, ArgoCDPermissionError) if self._authorized else (ArgoCDUnavailableError,)
        return await self._within(self._settings.unavailable, passing, call)

    async def ensure_application(self, app: str, placement: ApplicationPlacement) -> None:
        """Create the Application or put its spec right, riding out a moment of unavailability like every call."""
        await self._tolerant(lambda: self._client.upsert_application(app, placement))

    async def sync(self, app: str, revision: str, infos: list[tuple[str, str]]) -> Application:
        """Ask Argo CD to sync `revision`, waiting its turn while another operation runs."""
        application = await self._within(
            self._settings.operation_in_progress,
            OperationInProgressError,
            lambda: self._tolerant(lambda: self._client.sync(app, revision, infos=infos)),
        )
        self._authorized = True
        return application

    async def sync_and_follow(
        self, app: str, revision: str, *, digest: str | None, deadline_seconds: float, run_id: str = ""
    ) -> FollowOutcome:
        deadline = time.monotonic() + deadline_seconds
        infos = [("rollwright", run_id)] if run_id else []
        self._progress(FollowProgress(app=app, revision=revision, stage=Stage.SYNCING))
        await self.sync(app, revision, infos)
        synced = await self._wait_for_sync(app, revision, deadline, infos)
        if isinstance(synced, str):
            return FollowOutcome(healthy=False, reason=synced, revision=revision)
        state = synced.status.operation_state
        # A Rollout this sync pruned (a region removed) stays in the tree until Kubernetes has deleted it, while
        # Argo CD already refuses to read it as part of the application: there is nothing to follow.
        pruned = state.sync_result.pruned(ROLLOUT_GROUP, ROLLOUT_KIND) if state and state.sync_result else set()
        tree = await self._tolerant(lambda: self._client.resource_tree(app))
        rollouts = [r for r in tree.managed(ROLLOUT_GROUP, ROLLOUT_KIND) if (r.namespace, r.name) not in pruned]
        if not rollouts:
            return _no_rollout(app, revision)
        return await self._follow(app, revision, rollouts[0].ref(), digest, deadline)

    async def _wait_for_sync(
        self, app: str, revision: str, deadline: float, infos: list[tuple[str, str]]
    ) -> Application | str:
        """The Application once Argo CD has synced `revision`; else why the sync failed.

        Each change comes on the application stream with the Application itself, so it is judged without a read."""
        async with self._watch(f"application {app}", functools.partial(self._watch_application, app)) as watch:
            return await self._synced(app, revision, deadline, infos, watch)

    def _watch_application(self, app: str, listening: Callable[[], None]) -> AsyncIterator[ApplicationWatchEvent]:
        return self._client.watch_application(app, on_listening=listening)

    def _watch_tree(self, app: str, listening: Callable[[], None]) -> AsyncIterator[ApplicationTree]:
        return self._client.watch_resource_tree(app, on_listening=listening)

    async def _synced(
        self,
        app: str,
        revision: str,
        deadline: float,
        infos: list[tuple[str, str]],
        watch: Watch[ApplicationWatchEvent],
    ) -> Application | str:
        failures = 0
        application = await self._read_application(app)
        while True:
            state = application.status.operation_state
            pending = application.operation is not None
            self._progress(
                FollowProgress(app=app, revision=revision, stage=Stage.SYNCING, phase=state.phase if state else None)
            )
            if state is not None and not pending and state.completed:
                synced = application.status.sync
                ours = same_revision(state.revision, revision)
                if ours and state.phase == "Succeeded":
                    # status.sync describes the branch's newest commit; a later commit that leaves this app's
                    # path alone (another region's) still reads Synced, so either form confirms the hand-off.
                    # Otherwise the comparison lags the operation: wait for the next one.
                    if synced is not None and (same_revision(synced.revision, revision) or synced.status == "Synced"):
                        return application
                else:
                    if ours:
                        failures += 1
                        log.warning("argocd sync failed", app=app, revision=revision, message=state.message)
                        if failures >= self._settings.sync_attempts:
                            return f"Argo CD could not sync {revision}: {state.message or state.phase}"
                    # Our sync failed, or another operation (say an auto-sync) finished after it: ask again.
                    await self.sync(app, revision, infos)
            if time.monotonic() > deadline:
                return f"Argo CD did not finish syncing {revision} before the progress deadline"
            news = await self._news(watch, deadline)
            # A deleted Application is read, so that the read's error says what is wrong.
            sent = [event.application for event in news.events if event.type != _DELETED]
            application = sent[-1] if sent and not news.stale else await self._read_application(app)

    async def _follow(
        self, app: str, revision: str, ref: ResourceRef, digest: str | None, deadline: float
    ) -> FollowOutcome:
        """Read the live Rollout, once at first and again whenever the resource-tree stream shows it changed, until
        Rollwright's own reading of it (rollout_status) gives an outcome.

        The health Argo CD shows for the Rollout node in the tree is not consulted: it judges whichever object is
        live, calls Healthy a Rollout running another image or one whose image lives in a referenced workload, and
        lags an abort; rollout_status' docstring lists each difference and why this reading wins.
        """
        async with self._watch(f"resource tree of {app}", functools.partial(self._watch_tree, app)) as watch:
            # The tree stream sends nothing until the tree changes, so the state before that is read, once the
            # stream listens: a change between the two would otherwise wait for the recheck.
            await watch.listening(_LISTENING_TIMEOUT)
            return await self._judged(app, revision, ref, digest, deadline, watch)

    async def _judged(
        self,
        app: str,
        revision: str,
        ref: ResourceRef,
        digest: str | None,
        deadline: float,
        watch: Watch[ApplicationTree],
    ) -> FollowOutcome:
        # The Rollout's resourceVersions that a read at least as new has judged: a tree event about other objects
        # (pods, ReplicaSets) or one that lags the last read needs no new read.
        judged: set[str] = set()
        # The tree the stream showed with the change being read, if it did: it lists the AnalysisRuns too.
        shown: ApplicationTree | None = None

        def rollout_changed(tree: ApplicationTree) -> bool:
            version = _rollout_version(tree, ref)
            return version is None or version not in judged

        while True:
            try:
                live = await self._tolerant(lambda: self._client.get_resource(app, ref))
            except ArgoCDNotFoundError:
                # Pruned by this sync (a region removed) while the tree still listed it: gone once the tree agrees.
                tree = await self._tolerant(lambda: self._client.resource_tree(app))
                if not tree.managed(ROLLOUT_GROUP, ROLLOUT_KIND):
                    return _no_rollout(app, revision)
                if time.monotonic() > deadline:
                    raise
                # Polling as well: whether the tree changes just then is Argo CD's affair.
                await self._news(watch, deadline, polling=True)
                continue
            except ArgoCDRequestError as exc:
                # Right after a first sync the tree may list the Rollout before the application's cache has it
                # (real Argo CD answers 400 "not found as part of application"): not yet there, not an error.
                if _NOT_YET_MANAGED not in exc.message or time.monotonic() > deadline:
                    raise
                await self._news(watch, deadline, polling=True)
                continue
            if (live.get("metadata") or {}).get("deletionTimestamp"):
                # Pruned by this sync (a region removed): Kubernetes deletes it once its ReplicaSets are gone.
                return _no_rollout(app, revision)
            status = interpret_rollout(live, digest=digest or None, deadline_passed=time.monotonic() > deadline)
            self._report(app, revision, status)
            if status.verdict is RolloutVerdict.UNJUDGEABLE:
                # No later look can tell more, so the hand-off ends now rather than at the progress deadline.
                raise UnjudgeableRolloutError(status.reason or f"Rollout {status.name} cannot be judged")
            if status.verdict is RolloutVerdict.HEALTHY:
                return self._outcome(True, revision, status, None)
            if status.verdict is RolloutVerdict.FAILED:
                measured = await self._failed_measurement(app, shown)
                reason = f"{status.reason}; {measured}" if measured and status.reason else status.reason or measured
                return self._outcome(False, revision, status, reason)
            if version := (live.get("metadata") or {}).get("resourceVersion"):
                judged.add(str(version))
            news = await self._news(watch, deadline, rollout_changed)
            # The read that follows covers what these events showed.
            judged.update(v for tree in news.events if (v := _rollout_version(tree, ref)))
            shown = news.events[-1] if news.events else None

    async def _failed_measurement(self, app: str, shown: ApplicationTree | None) -> str | None:
        """What the newest failed AnalysisRun measured: run, metric, value and condition, each read riding out a moment
        of unavailability like every call (the rollback notification names it). The runs are those of the tree the
        stream `shown` with the failure, else of one read now. Best effort: a canary that failed stays failed when
        this cannot be read."""
        try:
            tree = shown if shown is not None else await self._tolerant(lambda: self._client.resource_tree(app))
            runs = tree.of_kind(ROLLOUT_GROUP, ANALYSIS_RUN_KIND)
            for node in sorted(runs, key=lambda n: n.name, reverse=True):
                run = await self._tolerant(functools.partial(self._client.get_resource, app, node.ref()))
                described = describe_failed_analysis(run)
                if described:
                    return described
        except ArgoCDError as exc:
            log.info("could not read the failed AnalysisRun", app=app, error=exc.message)
        return None

    def _report(self, app: str, revision: str, status: RolloutStatus) -> None:
        self._progress(
            FollowProgress(
                app=app,
                revision=revision,
                stage=Stage.FOLLOWING,
                rollout=status.name,
                phase=status.phase,
                step_index=status.step_index,
                step_count=status.step_count,
                weight=status.weight,
                message=status.message,
            )
        )

    @staticmethod
    def _outcome(healthy: bool, revision: str, status: RolloutStatus, reason: str | None) -> FollowOutcome:
        return FollowOutcome(
            healthy=healthy,
            reason=reason,
            revision=revision,
            rollout=status.name,
            step_index=status.step_index,
            weight=status.weight,
        )
