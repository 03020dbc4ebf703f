"""The version data store: what was published, what runs where, what is bad, and who said so.

Synchronous (SQLAlchemy Core); async callers run it in a thread. Every write is one transaction keyed
on a unique constraint, so repeating a write (a retried activity) changes nothing the second time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from rollwright.domain.freeze import Freeze, FreezeScope
from rollwright.domain.identity import RegionTarget
from rollwright.domain.lane import LaneActionKind
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import freezes, queries, rendered, schema, standing
from rollwright.versionstore.engine import create_store_engine
from rollwright.versionstore.errors import (
    InvalidLaneActionError,
    NotFrozenError,
    NotMarkedBadError,
    VersionStoreUnavailableError,
)
from rollwright.versionstore.migrations import migrate
from rollwright.versionstore.models import (
    AuditAction,
    AuditRecord,
    BadMark,
    DeploymentRecord,
    LaneActionRecord,
    LiveRegion,
    VersionRecord,
    VersionState,
)
from rollwright.versionstore.standing import insert_for

_FINISHED = {RegionState.LIVE, RegionState.FAILED, RegionState.ROLLED_BACK, RegionState.REMOVED}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class VersionStore:
    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._engine = create_store_engine(url)
        self._clock = clock
        self._migrated = False
        self._migrate_lock = threading.Lock()

    def __enter__(self) -> VersionStore:
        self.migrate()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    def migrate(self) -> None:
        """Bring the schema up to date (once per process; cheap to call before every operation)."""
        with self._migrate_lock:
            if not self._migrated:
                with self._unavailable_on_db_errors():
                    migrate(self._engine)
                self._migrated = True

    @contextmanager
    def _unavailable_on_db_errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise VersionStoreUnavailableError(f"version store unavailable: {exc.orig or exc}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise VersionStoreUnavailableError(f"version store connection lost: {exc.orig or exc}") from exc
            raise

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self.migrate()
        with self._unavailable_on_db_errors(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._write() as connection:
            yield connection

    # -- versions ----------------------------------------------------------------------------------

    def record_version(
        self,
        *,
        service: str,
        tag: str,
        digest: str,
        image: str | None,
        pushed_at: datetime | None = None,
        source: str | None = None,
        source_event_id: str | None = None,
        workflow_id: str | None = None,
    ) -> VersionRecord:
        """Record a published version; a repeat keeps the first record (its source event and time)."""
        now = self._clock()
        with self._write() as connection:
            values = dict(
                service=service,
                tag=tag,
                digest=digest,
                image=image,
                pushed_at=pushed_at,
                source=source,
                source_event_id=source_event_id,
                workflow_id=workflow_id,
                recorded_at=now,
                updated_at=now,
                state=VersionState.PENDING.value,
            )
            statement = insert_for(connection, schema.versions).values(**values)
            connection.execute(statement.on_conflict_do_nothing(index_elements=["service", "tag", "digest"]))
            standing.refresh_version_state(connection, service, digest, now)
            record = queries.version(connection, service, tag, digest)
        assert record is not None
        return record

    # -- deployments -------------------------------------------------------------------------------

    def record_region_state(
        self,
        target: RegionTarget,
        *,
        digest: str,
        tag: str,
        state: RegionState,
        workflow_id: str,
        detail: str | None = None,
    ) -> DeploymentRecord:
        now = self._clock()
        key = dict(service=target.service, environment=target.environment, region=target.region)
        with self._write() as connection:
            # A rollback may deploy a digest recorded before Rollwright knew it: give it a version row.
            version = insert_for(connection, schema.versions).values(
                service=target.service,
                tag=tag,
                digest=digest,
                image=None,
                state=VersionState.PENDING.value,
                recorded_at=now,
                updated_at=now,
            )
            connection.execute(version.on_conflict_do_nothing(index_elements=["service", "tag", "digest"]))
            table = schema.deployments
            insert = insert_for(connection, table).values(
                **key,
                digest=digest,
                tag=tag,
                workflow_id=workflow_id,
                state=state.value,
                detail=detail,
                started_at=now,
                updated_at=now,
                live_at=now if state is RegionState.LIVE else None,
                finished_at=now if state in _FINISHED else None,
            )
            excluded = insert.excluded
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["service", "environment", "region", "workflow_id", "digest"],
                    set_={
                        "state": excluded.state,
                        "detail": func.coalesce(excluded.detail, table.c.detail),
                        "updated_at": excluded.updated_at,
                        "live_at": func.coalesce(table.c.live_at, excluded.live_at),
                        "finished_at": func.coalesce(excluded.finished_at, table.c.finished_at),
                    },
                )
            )
            deployment_id = connection.scalar(
                select(table.c.id).where(
                    *queries.same_target(table, target), table.c.workflow_id == workflow_id, table.c.digest == digest
                )
            )
            touched = {digest} | standing.update_current(
                connection, target, deployment_id, digest, tag, state, workflow_id, now
            )
            for each in touched:
                standing.refresh_version_state(connection, target.service, each, now)
            record = queries.deployment(connection, deployment_id)
        assert record is not None
        return record

    # -- bad marks ---------------------------------------------------------------------------------

    def mark_bad(
        self,
        *,
        service: str,
        digest: str,
        reason: str,
        actor: str,
        workflow_id: str | None = None,
        request_key: str | None = None,
    ) -> BadMark:
        """Mark a digest bad (the first mark's reason stands) and audit the request once per `request_key`."""
        now = self._clock()
        with self._write() as connection:
            audit = insert_for(connection, schema.audit_log).values(
                at=now,
                action=AuditAction.MARK_BAD.value,
                service=service,
                digest=digest,
                actor=actor,
                reason=reason,
                workflow_id=workflow_id,
                request_key=request_key,
            )
            connection.execute(audit.on_conflict_do_nothing(index_elements=["request_key"]))
            mark = insert_for(connection, schema.bad_digests).values(
                service=service, digest=digest, reason=reason, actor=actor, workflow_id=workflow_id, marked_at=now
            )
            connection.execute(mark.on_conflict_do_nothing(index_elements=["service", "digest"]))
            standing.refresh_version_state(connection, service, digest, now)
            record = queries.bad_mark(connection, service, digest)
        assert record is not None
        return record

    def clear_bad(self, *, service: str, digest: str, reason: str, actor: str) -> BadMark:
        """Lift a bad mark (audited); returns the mark that was lifted."""
        now = self._clock()
        with self._write() as connection:
            existing = queries.bad_mark(connection, service, digest)
            if existing is None:
                raise NotMarkedBadError(f"{service} {digest} is not marked bad; nothing to clear")
            bad = schema.bad_digests
            connection.execute(delete(bad).where(bad.c.service == service, bad.c.digest == digest))
            connection.execute(
                schema.audit_log.insert().values(
                    at=now,
                    action=AuditAction.CLEAR_BAD.value,
                    service=service,
                    digest=digest,
                    actor=actor,
                    reason=reason,
                )
            )
            standing.refresh_version_state(connection, service, digest, now)
        return existing

    # -- lane actions ------------------------------------------------------------------------------

    def record_lane_action(
        self,
        *,
        service: str,
        environment: str,
        action: LaneActionKind | str,
        actor: str,
        reason: str,
        at: datetime,
        workflow_id: str,
        tag: str | None = None,
        digest: str | None = None,
        verified: bool = False,
    ) -> LaneActionRecord:
        """Audit a deliberate act on a lane. `at` is the lane's own time of the act, so a retried activity
        (same workflow, action and instant) finds the first row and adds none; that row is returned."""
        kind, when = _valid_lane_action(action, at, actor=actor, reason=reason)
        with self._write() as connection:
            statement = insert_for(connection, schema.lane_actions).values(
                service=service,
                environment=environment,
                action=kind.value,
                actor=actor,
                reason=reason,
                at=when,
                workflow_id=workflow_id,
                tag=tag,
                digest=digest,
                recorded_at=self._clock(),
                verified=verified,
            )
            connection.execute(statement.on_conflict_do_nothing(index_elements=["workflow_id", "action", "at"]))
            return queries.lane_action(connection, workflow_id, kind, when)

    def lane_actions(self, service: str, environment: str | None = None, limit: int = 100) -> list[LaneActionRecord]:
        """A service's lane actions, newest first; only `environment`'s if given."""
        with self._read() as connection:
            return queries.lane_actions(connection, service, environment, limit)

    # -- rendered manifests ------------------------------------------------------------------------

    def keep_manifests(self, content_hash: str, files: dict[str, str]) -> None:
        """Keep a region's rendered files under their content hash, for whichever worker commits them."""
        with self._write() as connection:
            rendered.keep(connection, content_hash, files, self._clock())

    def manifests(self, content_hash: str) -> dict[str, str]:
        """The files kept under `content_hash`; RenderedManifestsMissingError when there are none."""
        with self._read() as connection:
            return rendered.files(connection, content_hash)

    # -- freezes ----------------------------------------------------------------------------------

    def add_freeze(
        self,
        scope: FreezeScope,
        *,
        reason: str,
        actor: str,
        verified: bool = False,
        until: datetime | None = None,
        let_running_finish: bool = False,
    ) -> Freeze:
        """Freeze `scope` from now on (until `until`, or until lifted)."""
        with self._write() as connection:
            return freezes.insert(
                connection,
                scope,
                reason=reason,
                actor=actor,
                verified=verified,
                until=until,
                let_running_finish=let_running_finish,
                now=self._clock(),
            )

    def lift_freezes(self, scope: FreezeScope, *, actor: str, reason: str) -> list[Freeze]:
        """Lift every active freeze that lies within `scope` (an unfreeze of all services lifts every freeze of
        its environment); NotFrozenError when there is none, naming what still applies."""
        freezes.check_who_and_why(actor, reason, "unfreeze")
        now = self._clock()
        with self._write() as connection:
            active = freezes.active(connection, now)
            lifting = [freeze for freeze in active if freeze.scope.within(scope)]
            if not lifting:
                raise NotFrozenError(_nothing_to_lift(scope, active))
            return [freezes.lift(connection, freeze, actor=actor, reason=reason, now=now) for freeze in lifting]

    def lift_freeze(self, freeze_id: int, *, actor: str, reason: str) -> Freeze:
        """Lift one freeze by its id; NotFrozenError when it does not exist, was lifted or has expired."""
        freezes.check_who_and_why(actor, reason, "unfreeze")
        now = self._clock()
        with self._write() as connection:
            found = next((freeze for freeze in freezes.active(connection, now) if freeze.id == freeze_id), None)
            if found is None:
                raise NotFrozenError(f"no active freeze #{freeze_id} (it never was, was lifted, or has expired)")
            return freezes.lift(connection, found, actor=actor, reason=reason, now=now)

    def active_freezes(self, at: datetime | None = None) -> list[Freeze]:
        """The freezes in force at `at` (default now), oldest first."""
        with self._read() as connection:
            return freezes.active(connection, at or self._clock())

    def freeze_history(self, limit: int = 100) -> list[Freeze]:
        """Every freeze, lifted or expired ones too, newest first: the freezes' audit trail."""
        with self._read() as connection:
            return freezes.history(connection, limit)

    # -- reads (the queries themselves live in versionstore.queries) -------------------------------

    def versions(self, service: str, limit: int = 50) -> list[VersionRecord]:
        with self._read() as connection:
            return queries.versions(connection, service, limit)

    def live_regions(self, service: str) -> list[LiveRegion]:
        with self._read() as connection:
            return queries.live_regions(connection, service)

    def last_known_good(self, target: RegionTarget) -> DeploymentRecord | None:
        with self._read() as connection:
            return queries.last_known_good(connection, target)

    def bad_mark(self, service: str, digest: str) -> BadMark | None:
        with self._read() as connection:
            return queries.bad_mark(connection, service, digest)

    def deployments(self, service: str, limit: int = 100) -> list[DeploymentRecord]:
        with self._read() as connection:
            return queries.deployments(connection, service, limit)

    def audit(self, service: str, digest: str | None = None) -> list[AuditRecord]:
        with self._read() as connection:
            return queries.audit(connection, service, digest)


def _nothing_to_lift(scope: FreezeScope, active: list[Freeze]) -> str:
    wider = [freeze for freeze in active if freeze.scope.overlaps(scope)]
    if not wider:
        return f"nothing is frozen in {scope.describe()}"
    named = "; ".join(f"#{freeze.id} {freeze.scope.describe()} by {freeze.actor}" for freeze in wider)
    return f"no freeze lies within {scope.describe()}; what overlaps it is wider: {named} (unfreeze that scope)"


def _valid_lane_action(
    action: LaneActionKind | str, at: datetime, *, actor: str, reason: str
) -> tuple[LaneActionKind, datetime]:
    """Refuse what the audit could not answer for before anything is written."""
    try:
        kind = LaneActionKind(action)
    except ValueError:
        known = ", ".join(each.value for each in LaneActionKind)
        raise InvalidLaneActionError(f"unknown lane action {action!r} (known: {known})") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidLaneActionError(f"lane action {kind.value} at {at.isoformat()}: the time has no time zone")
    if not actor.strip() or not reason.strip():
        raise InvalidLaneActionError(f"lane action {kind.value}: an audit needs who (actor) and why (reason)")
    # SQLite keeps the wall-clock digits only: one zone (UTC) makes a retry's key equal to the first write's.
    return kind, at.astimezone(UTC)
