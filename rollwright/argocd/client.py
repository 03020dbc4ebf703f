"""Async client for the Argo CD REST API: the calls a hand-off needs, typed, each sent once, no Temporal here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from rollwright.argocd.config import ArgoCDClientConfig
from rollwright.argocd.errors import (
    ArgoCDNotFoundError,
    ArgoCDRequestError,
    ArgoCDResponseError,
)
from rollwright.argocd.models import (
    Application,
    ApplicationDestination,
    ApplicationResourceResponse,
    ApplicationSource,
    ApplicationSpec,
    ApplicationSyncRequest,
    ApplicationTree,
    ApplicationWatchEvent,
    ArgoModel,
    InfoEntry,
    ObjectMeta,
    ResourceActionParameters,
    ResourceActionRunRequestV2,
    ResourceRef,
)
from rollwright.argocd.transport import build_http_client, json_object, send, stream
from rollwright.observability.logging import get_logger

log = get_logger(__name__)

M = TypeVar("M", bound=ArgoModel)


def _parse(model: type[M], body: Any, what: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ArgoCDResponseError(f"{what}: unexpected answer shape: {exc}") from exc


class ApplicationPlacement(BaseModel):
    """Where one region's Application reads its manifests from and where it puts them."""

    model_config = ConfigDict(frozen=True)

    project: str = "default"
    repo_url: str
    path: str
    target_revision: str
    server: str
    namespace: str


class ArgoCDClient:
    """`async with ArgoCDClient(config) as argocd:` — one connection pool, closed on exit."""

    def __init__(self, config: ArgoCDClientConfig, *, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._http = http or build_http_client(config)

    async def __aenter__(self) -> ArgoCDClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, what: str, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        return await send(self._http, self._config, method, path, what=what, params=params, json=body)

    @staticmethod
    def _app_path(name: str) -> str:
        return f"/api/v1/applications/{quote(name, safe='')}"

    async def get_application(self, name: str, *, refresh: Literal["normal", "hard"] | None = None) -> Application:
        params: dict[str, str] | None = {"refresh": refresh} if refresh else None
        what = f"get application {name}"
        return _parse(Application, await self._call("GET", self._app_path(name), what=what, params=params), what)

    async def upsert_application(self, name: str, placement: ApplicationPlacement) -> Application:
        """Create the Application, or bring its spec to this one (Argo CD's `upsert`): safe to repeat.

        No automated sync policy: whoever calls this syncs to exactly the revision it means.
        """
        app = Application(
            metadata=ObjectMeta(name=name),
            spec=ApplicationSpec(
                project=placement.project,
                source=ApplicationSource(
                    repo_url=placement.repo_url, path=placement.path, target_revision=placement.target_revision
                ),
                destination=ApplicationDestination(server=placement.server, namespace=placement.namespace),
            ),
        )
        what = f"create or update application {name}"
        body = app.to_api()
        body.pop("status", None)
        answer = await self._call("POST", "/api/v1/applications", what=what, params={"upsert": "true"}, body=body)
        return _parse(Application, answer, what)

    async def sync(
        self, name: str, revision: str, *, prune: bool = True, infos: Sequence[tuple[str, str]] = ()
    ) -> Application:
        """Request a sync to `revision`; raises OperationInProgressError while another operation runs."""
        request = ApplicationSyncRequest(
            name=name,
            revision=revision,
            prune=prune,
            infos=[InfoEntry(name=k, value=v) for k, v in infos] or None,
        )
        what = f"sync application {name} to {revision}"
        body = await self._call("POST", f"{self._app_path(name)}/sync", what=what, body=request.to_api())
        return _parse(Application, body, what)

    async def resource_tree(self, name: str) -> ApplicationTree:
        what = f"resource tree of {name}"
        return _parse(
            ApplicationTree, await self._call("GET", f"{self._app_path(name)}/resource-tree", what=what), what
        )

    async def watch_application(
        self, name: str, *, on_listening: Callable[[], None] = lambda: None
    ) -> AsyncIterator[ApplicationWatchEvent]:
        """The Application at once (ADDED), then again after each change, until Argo CD ends the stream."""
        what = f"watch application {name}"
        params = {"name": name}
        path = "/api/v1/stream/applications"
        async for result in stream(self._http, self._config, path, what=what, params=params, on_listening=on_listening):
            yield _parse(ApplicationWatchEvent, result, what)

    async def watch_resource_tree(
        self, name: str, *, on_listening: Callable[[], None] = lambda: None
    ) -> AsyncIterator[ApplicationTree]:
        """The resource tree after each change, until Argo CD ends the stream. Nothing comes (not even the answer's
        headers) until the tree first changes: read `resource_tree` for how it stands now."""
        what = f"watch resource tree of {name}"
        path = f"/api/v1/stream/applications/{quote(name, safe='')}/resource-tree"
        async for result in stream(self._http, self._config, path, what=what, on_listening=on_listening):
            yield _parse(ApplicationTree, result, what)

    async def get_resource(self, name: str, ref: ResourceRef) -> dict[str, Any]:
        """The live object as a dict (Argo CD sends it as a JSON string in `manifest`)."""
        what = f"get {ref.kind} {ref.name} of {name}"
        body = await self._call("GET", f"{self._app_path(name)}/resource", what=what, params=ref.query())
        manifest = _parse(ApplicationResourceResponse, body, what).manifest
        return json_object(manifest, what, kind="manifest")

    async def run_resource_action(
        self, name: str, ref: ResourceRef, action: str, parameters: dict[str, str] | None = None
    ) -> None:
        """Run a resource action (e.g. a Rollout's `abort`) through actions/v2, else the v1 form on older servers."""
        what = f"run action {action} on {ref.kind} {ref.name} of {name}"
        request = ResourceActionRunRequestV2(
            name=name,
            namespace=ref.namespace,
            resource_name=ref.name,
            version=ref.version,
            group=ref.group,
            kind=ref.kind,
            action=action,
            resource_action_parameters=[ResourceActionParameters(name=k, value=v) for k, v in parameters.items()]
            if parameters
            else None,
        )
        base = f"{self._app_path(name)}/resource/actions"
        try:
            await self._call("POST", f"{base}/v2", what=what, body=request.to_api())
            return
        except (ArgoCDNotFoundError, ArgoCDRequestError) as exc:
            # Servers before 3.1 have no v2 route (404/405/501); anything else from v2 is the real answer.
            if exc.status not in (404, 405, 501):
                raise
            if parameters:
                raise ArgoCDRequestError(f"{what}: this Argo CD has no actions/v2, which parameters need") from exc
            log.info("argocd has no actions/v2, using v1", app=name, action=action)
        # v1 takes the action name as the whole body: a bare JSON string.
        await self._call("POST", base, what=what, params=ref.query(), body=action)
