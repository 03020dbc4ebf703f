"""The simulated application controller: registers Applications, runs sync operations from the GitOps
repository, keeps sync status against the branch, auto-syncs, and drives the Rollout controller."""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

from argocd_standin.errors import failed_precondition, invalid_argument, not_found
from argocd_standin.gitrepo import GitError, GitRepo, ManifestError
from argocd_standin.rollouts import RolloutController, timestamp
from argocd_standin.rules import first_match
from argocd_standin.settings import StandinSettings
from argocd_standin.state import AppRecord, LiveResource, Store
from rollwright.observability.logging import get_logger

log = get_logger(__name__)

SYNC_SECONDS = 1.0  # simulated time a sync operation takes to apply manifests
# However fast simulated time runs, a sync stays observable as Running for a moment, as a real one does.
MIN_SYNC_REAL_SECONDS = 0.05
OPERATION_IN_PROGRESS = "another operation is already in progress"


def _is_rollout(res: LiveResource) -> bool:
    return res.group == "argoproj.io" and res.kind == "Rollout"


class AppController:
    def __init__(self, settings: StandinSettings, store: Store, repo: GitRepo) -> None:
        self.settings = settings
        self.store = store
        self.repo = repo
        self.rollouts = RolloutController(settings)
        self._trees: dict[tuple[str, str], str | None] = {}

    @property
    def apps(self) -> dict[str, AppRecord]:
        return self.store.state.applications

    # -- registry -------------------------------------------------------------------------------------

    def register(self, name: str, path: str, **fields: Any) -> AppRecord:
        current = self.apps.get(name)
        base = current.model_dump() if current else {"uid": str(uuid.uuid4()), "created_at": timestamp(time.time())}
        base.update(name=name, path=path, repo_url=fields.pop("repo_url", None) or str(self.settings.repo))
        base.setdefault("target_revision", self.settings.branch)
        base.update({k: v for k, v in fields.items() if v is not None})
        app = AppRecord.model_validate(base)
        self.apps[name] = app
        self.store.save()
        log.info("application registered", app=name, path=path, automated=app.automated)
        return app

    async def get(self, name: str) -> AppRecord:
        app = self.apps.get(name) or await self._discover(name)
        if app is None:
            raise not_found(f'applications.argoproj.io "{name}" not found')
        return app

    async def _discover(self, name: str) -> AppRecord | None:
        """An unknown name becomes an Application if some `<env>/<region>/<service>` directory matches it."""
        head = await self.repo.resolve(self.settings.branch)
        if head is None:
            return None
        for path in await self.repo.directories(head, depth=3):
            env, region, service = path.split("/")
            if self.settings.app_template.format(service=service, env=env, region=region) == name:
                return self.register(name, path, service=service, environment=env, region=region)
        return None

    # -- operations -----------------------------------------------------------------------------------

    def start_sync(
        self,
        app: AppRecord,
        revision: str | None,
        *,
        prune: bool,
        infos: list[dict[str, str]],
        automated: bool = False,
    ) -> None:
        if app.operation is not None:
            raise failed_precondition(OPERATION_IN_PROGRESS)
        now = time.time()
        operation: dict[str, Any] = {
            "sync": {"revision": revision or app.target_revision, "prune": prune},
            "initiatedBy": {"automated": True} if automated else {"username": "admin"},
            "retry": {},
        }
        if infos:
            operation["info"] = infos
        app.operation = operation
        app.operation_state = {"operation": operation, "phase": "Running", "startedAt": timestamp(now)}
        app.op_started = now
        app.resource_version += 1
        self.store.save()

    def terminate(self, app: AppRecord) -> None:
        if app.operation is None or app.operation_state is None:
            raise failed_precondition("Unable to terminate operation. No operation is in progress")
        app.operation_state["phase"] = "Terminating"
        app.resource_version += 1
        self.store.save()

    def act(self, app: AppRecord, group: str, kind: str, namespace: str, name: str, action: str) -> None:
        res = app.find(group, kind, namespace, name)
        if res is None:
            raise invalid_argument(f"{kind} {name} not found as part of application {app.name}")
        if not _is_rollout(res):
            raise invalid_argument(f"action {action!r} is not available for {kind}")
        try:
            self.rollouts.act(res, action, time.time())
        except ValueError as exc:
            raise invalid_argument(str(exc)) from exc
        log.info("resource action", app=app.name, resource=name, action=action)
        self.store.save()

    async def refresh(self, app: AppRecord) -> None:
        """Compare the branch's manifests with what was applied, as a refresh does."""
        head = await self.repo.resolve(app.target_revision)
        app.reconciled_at = timestamp(time.time())
        if head is None:
            app.sync_status = "Unknown"
            return
        # Like Argo CD, status.sync is about the branch's latest commit, compared with what was applied.
        applied = await self._tree(app.applied_revision, app.path) if app.applied_revision else "<never applied>"
        app.sync_status = "Synced" if await self._tree(head, app.path) == applied else "OutOfSync"
        app.sync_revision = head

    async def _tree(self, sha: str, path: str) -> str | None:
        if (sha, path) not in self._trees:
            self._trees[(sha, path)] = await self.repo.tree_id(sha, path)
        return self._trees[(sha, path)]

    # -- the control loop -----------------------------------------------------------------------------

    async def tick(self) -> None:
        now = time.time()
        changed = False
        for app in list(self.apps.values()):
            changed |= await self._operation(app, now)
            for res in app.resources:
                if _is_rollout(res):
                    rule = first_match(self.store.state.rules, res.object, app=app.name, region=app.region)
                    changed |= self.rollouts.reconcile(res, now, rule)
            if app.automated and now - app.last_auto_sync_check >= self.settings.auto_sync_poll:
                app.last_auto_sync_check = now
                await self._auto_sync(app)
        if changed:
            self.store.save()

    async def _auto_sync(self, app: AppRecord) -> None:
        if app.operation is not None:
            return
        await self.refresh(app)
        head = await self.repo.resolve(app.target_revision)
        last = app.operation_state.get("syncResult", {}).get("revision") if app.operation_state else None
        if app.sync_status == "OutOfSync" and head is not None and head != last:
            log.info("auto-sync", app=app.name, revision=head)
            self.start_sync(app, head, prune=True, infos=[], automated=True)

    async def _operation(self, app: AppRecord, now: float) -> bool:
        state = app.operation_state
        if app.operation is None or state is None:
            return False
        if state["phase"] == "Terminating":
            self._finish(app, now, "Failed", "Operation terminated")
            return True
        duration = max(self.settings.scaled(SYNC_SECONDS), MIN_SYNC_REAL_SECONDS)
        if app.op_started is None or now < app.op_started + duration:
            return False
        operation = app.operation
        revision = str(operation["sync"]["revision"])
        try:
            sha = await self.repo.resolve(revision)
            if sha is None:
                raise GitError(f"unable to resolve '{revision}' to a commit SHA")
            manifests = await self.repo.manifests(sha, app.path)
        except (GitError, ManifestError) as exc:
            if app.operation is operation:
                self._finish(app, now, "Failed", f"ComparisonError: {exc}")
            return True
        if app.operation is not operation or state["phase"] != "Running":
            return True  # terminated while git was read
        results = self._apply(app, manifests, now, prune=bool(operation["sync"].get("prune")))
        state["syncResult"] = {
            "resources": results,
            "revision": sha,
            "source": {"repoURL": app.repo_url, "path": app.path, "targetRevision": app.target_revision},
        }
        self._finish(app, now, "Succeeded", "successfully synced (all tasks run)")
        app.sync_revision, app.applied_revision, app.sync_status = sha, sha, "Synced"
        app.history.append(
            {
                "id": len(app.history),
                "revision": sha,
                "deployStartedAt": state["startedAt"],
                "deployedAt": timestamp(now),
                "source": state["syncResult"]["source"],
                "initiatedBy": operation.get("initiatedBy", {}),
            }
        )
        log.info("synced", app=app.name, revision=sha, resources=len(app.resources))
        return True

    def _finish(self, app: AppRecord, now: float, phase: str, message: str) -> None:
        assert app.operation_state is not None
        app.operation_state.update(phase=phase, message=message, finishedAt=timestamp(now))
        app.operation = None
        app.op_started = None
        app.resource_version += 1

    def _apply(self, app: AppRecord, manifests: list[dict[str, Any]], now: float, prune: bool) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        wanted: set[tuple[str, str, str, str]] = set()
        for manifest in manifests:
            desired = {k: copy.deepcopy(v) for k, v in manifest.items() if k != "status"}
            desired["metadata"].setdefault("namespace", app.dest_namespace)
            probe = LiveResource(object=desired)
            wanted.add(probe.key())
            live = app.find(probe.group, probe.kind, probe.namespace, probe.name)
            verb = "unchanged"
            if live is None:
                live = probe
                desired["metadata"].update(
                    uid=str(uuid.uuid4()), generation=1, creationTimestamp=timestamp(now), resourceVersion="1"
                )
                app.resources.append(live)
                verb = "created"
            elif self._update(live, desired):
                verb = "configured"
            if _is_rollout(live):
                self.rollouts.apply(live, manifest, now)
            results.append(self._result(live, "Synced", f"{live.kind.lower()}/{live.name} {verb}"))
        for res in list(app.resources):
            if res.key() not in wanted and prune:
                app.resources.remove(res)
                results.append(self._result(res, "Pruned", "pruned"))
        return results

    @staticmethod
    def _update(live: LiveResource, desired: dict[str, Any]) -> bool:
        obj = live.object
        meta = obj["metadata"]
        changed = False
        for key, value in desired.items():
            if key == "metadata":
                for field in ("labels", "annotations"):
                    merged = {**meta.get(field, {}), **value.get(field, {})}
                    changed |= merged != meta.get(field, {})
                    meta[field] = merged
            elif obj.get(key) != value:
                obj[key] = value
                changed = True
        if changed:
            meta["generation"] = int(meta.get("generation", 1)) + 1
            meta["resourceVersion"] = str(int(meta.get("resourceVersion", "1")) + 1)
        return changed

    @staticmethod
    def _result(res: LiveResource, status: str, message: str) -> dict[str, Any]:
        return {
            "group": res.group,
            "version": res.version,
            "kind": res.kind,
            "namespace": res.namespace,
            "name": res.name,
            "status": status,
            "message": message,
            "hookPhase": "Succeeded",
            "syncPhase": "Sync",
        }
