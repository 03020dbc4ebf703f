"""Publish-phase activities: inspect a pushed candidate, then publish it (re-resolve, promote, record).

Thin over `rollwright.registry` and `versionstore`; this is the one place registry errors become ApplicationErrors:
a RegistryUnavailableError (5xx, 429, timeout; the client never resends) is retryable, so Temporal retries it.
A webhook's digest is only a hint: both activities ask the registry what the tag points at now.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    ActivityName,
    CandidateInfo,
    ErrorType,
    InspectCandidateInput,
    PublishInput,
    PublishResult,
)
from activities.heartbeat import keeps_heartbeating
from activities.settings import registry_client_config
from activities.versions import shared_store, store_failure
from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.observability.logging import get_logger
from rollwright.registry import (
    ImageReference,
    InvalidReferenceError,
    NotFoundError,
    RegistryAuthError,
    RegistryClient,
    RegistryClientConfig,
    RegistryError,
    copy_image,
    parse_reference,
    parse_repository,
)
from rollwright.secrets import SecretUnavailableError
from rollwright.versionstore import VersionStore, VersionStoreError

log = get_logger(__name__)

# Not an ErrorType: a reference that cannot be parsed is bad input, which retrying cannot fix either.
INVALID_REFERENCE = "InvalidImageReference"


def tag_matches(policy: str, tag: str) -> bool:
    """A tag is allowed when the whole tag matches the service's policy (`v1.2.3-rc1` does not match `v\\d+`)."""
    return re.fullmatch(policy, tag) is not None


def registry_failure(exc: RegistryError | SecretUnavailableError, image: str) -> ApplicationError:
    if isinstance(exc, NotFoundError):
        return ApplicationError(f"{image}: {exc}", type=ErrorType.IMAGE_NOT_FOUND, non_retryable=True)
    if isinstance(exc, RegistryAuthError):
        return ApplicationError(f"{image}: {exc}", type=ErrorType.REGISTRY_AUTH, non_retryable=True)
    if isinstance(exc, InvalidReferenceError):
        return ApplicationError(str(exc), type=INVALID_REFERENCE, non_retryable=True)
    if isinstance(exc, SecretUnavailableError):
        return ApplicationError(f"registry credentials: {exc}", type=ErrorType.CONFIG_INVALID, non_retryable=True)
    # Unavailable, protocol trouble, a body that failed verification: worth another attempt.
    return ApplicationError(f"{image}: {exc}", type=type(exc).__name__)


class PublishActivities:
    def __init__(
        self, config: RollwrightConfig, store: VersionStore, client_config: Callable[[], RegistryClientConfig]
    ) -> None:
        self._config = config
        self._store = store
        # Built per call, so rotated registry passwords are picked up without restarting the worker.
        self._client_config = client_config

    def _client(self, image: str) -> RegistryClient:
        try:
            return RegistryClient(self._client_config())
        except SecretUnavailableError as exc:
            raise registry_failure(exc, image) from exc

    def _service(self, service: str) -> ServiceConfig:
        try:
            return self._config.service(service)
        except KeyError as exc:
            raise ApplicationError(str(exc.args[0]), type=ErrorType.SERVICE_UNKNOWN, non_retryable=True) from exc

    @staticmethod
    def _reference(image: str, tag: str) -> ImageReference:
        try:
            return parse_reference(f"{image}:{tag}")
        except InvalidReferenceError as exc:
            raise registry_failure(exc, image) from exc

    @activity.defn(name=ActivityName.INSPECT_CANDIDATE)
    @keeps_heartbeating
    async def inspect_candidate(self, request: InspectCandidateInput) -> CandidateInfo:
        service = self._service(request.service)
        policy, image = service.tags, request.image or service.image
        ref = self._reference(image, request.tag)
        try:
            async with self._client(image) as client:
                resolved = await client.resolve(ref)
                pushed_at = await client.pushed_at(ref.with_digest(resolved.digest))
        except RegistryError as exc:
            raise registry_failure(exc, str(ref)) from exc
        if request.digest_hint is not None and request.digest_hint != resolved.digest:
            log.warning("digest_hint_stale", image=str(ref), hint=request.digest_hint, registry=resolved.digest)
        try:
            bad = await asyncio.to_thread(self._store.bad_mark, request.service, resolved.digest)
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        return CandidateInfo(
            tag=request.tag,
            digest=resolved.digest,
            pushed_at=pushed_at,
            marked_bad=bad is not None,
            bad_reason=bad.reason if bad is not None else None,
            tag_allowed=tag_matches(policy, request.tag),
            tag_policy=policy,
        )

    @activity.defn(name=ActivityName.PUBLISH_IMAGE)
    @keeps_heartbeating
    async def publish_image(self, request: PublishInput) -> PublishResult:
        if not tag_matches(request.tag_policy, request.tag):
            raise ApplicationError(
                f"{request.service}: tag {request.tag!r} does not match the tag policy `{request.tag_policy}`",
                type=ErrorType.TAG_POLICY_VIOLATION,
                non_retryable=True,
            )
        ref = self._reference(request.image, request.tag)
        image = request.image
        try:
            async with self._client(request.image) as client:
                resolved = await client.resolve(ref)
                if resolved.digest != request.digest:
                    raise ApplicationError(
                        f"{ref} now points at {resolved.digest}, not {request.digest}: the tag moved after the "
                        "pipeline resolved it; the newer push is its own candidate",
                        type=ErrorType.DIGEST_MISMATCH,
                        non_retryable=True,
                    )
                pinned = ref.with_digest(resolved.digest)
                pushed_at = await client.pushed_at(pinned)
                if request.promote_to is not None:
                    destination = parse_repository(request.promote_to)
                    await copy_image(client, pinned, destination, tag=request.tag)
                    image = request.promote_to
        except RegistryError as exc:
            raise registry_failure(exc, str(ref)) from exc
        try:
            await asyncio.to_thread(
                self._store.record_version,
                service=request.service,
                tag=request.tag,
                digest=request.digest,
                image=image,
                pushed_at=pushed_at,
                source=request.source.source,
                source_event_id=request.source.delivery_id,
                workflow_id=request.workflow_id,
            )
        except VersionStoreError as exc:
            raise store_failure(exc) from exc
        log.info("image_published", service=request.service, tag=request.tag, digest=request.digest, image=image)
        return PublishResult(
            digest=request.digest, tag=request.tag, image=image, promoted=request.promote_to is not None
        )


def create_activities(config: RollwrightConfig) -> list[Callable[..., Any]]:
    publish = PublishActivities(config, shared_store(config), lambda: registry_client_config(config))
    return [publish.inspect_candidate, publish.publish_image]
