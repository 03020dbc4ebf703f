"""The receiver's logic without HTTP: authenticate, parse, route to a service, dedup, enqueue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client

from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.control.enqueue import enqueue_push, intake_workflow_id
from rollwright.domain.deployment import PushEvent
from rollwright.domain.source import SourceEvent
from rollwright.domain.tags import valid_tag
from rollwright.observability.logging import get_logger
from rollwright.webhooks.auth import SourceCredentials, authenticate, load_credentials
from rollwright.webhooks.body import check_media_type, describe_validation_error, parse_json
from rollwright.webhooks.dedup import RecentDeliveries
from rollwright.webhooks.errors import PipelineUnavailableError, UnknownSourceError
from rollwright.webhooks.payloads.common import Extracted, ImagePush, Payload
from rollwright.webhooks.sources import SOURCES, Source

log = get_logger(__name__)


class ReceiverSettings(BaseModel):
    """Limits of the receiver, as one explicit object."""

    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    recent_deliveries: int = Field(default=4096, ge=1)
    temporal_rpc_timeout: timedelta = timedelta(seconds=10)
    readiness_timeout: timedelta = timedelta(seconds=3)


class QueuedPush(BaseModel):
    service: str
    repository: str
    tag: str
    digest_hint: str | None = None
    delivery_id: str
    workflow_id: str


class IgnoredEvent(BaseModel):
    event: str
    reason: str


class DeliveryReport(BaseModel):
    """The 202 body: what was queued where, what was a redelivery, and what started nothing and why."""

    status: Literal["accepted", "duplicate", "ignored"]
    source: str
    workflow_ids: list[str] = Field(default_factory=list)
    accepted: list[QueuedPush] = Field(default_factory=list)
    duplicates: list[QueuedPush] = Field(default_factory=list)
    ignored: list[IgnoredEvent] = Field(default_factory=list)


def extract_pushes(source: Source, headers: Mapping[str, str], body: bytes) -> Extracted:
    """What a delivery's body says was pushed; MalformedBodyError (400) or InvalidPayloadError (422) if unreadable."""
    skipped = source.skip(headers)
    if skipped is not None:
        parse_json(body)  # still JSON, or refused as any delivery would be
        return Extracted(skipped=[skipped])
    payload: Payload | None
    try:
        # One pass: pydantic reads the JSON itself, instead of validating what json.loads built.
        payload = source.payload.model_validate_json(body)
    except ValidationError:
        payload = None
    try:
        if payload is None:
            # A refusal, nearly always: read as before, so its reason is worded as it always was (and a body
            # nested deeper than pydantic's reader goes, but not json's, is still read).
            payload = source.payload.model_validate(parse_json(body))
        return source.extract(payload, headers, body)
    except ValidationError as exc:
        raise describe_validation_error(source.name, exc) from None


class Receiver:
    def __init__(self, config: RollwrightConfig, client: Client, settings: ReceiverSettings | None = None) -> None:
        self.config = config
        self.client = client
        self.settings = settings or ReceiverSettings()
        self._credentials: dict[str, SourceCredentials] = load_credentials(config.webhooks)
        self._recent = RecentDeliveries(self.settings.recent_deliveries)
        # The config's own answer for every name a service can be pushed under, asked once here, not per push.
        self._watching: dict[str, ServiceConfig] = {
            name: found
            for service in config.services
            for name in (service.image, service.repository_path)
            if (found := config.service_for_repository(name)) is not None
        }

    def check_source(self, source: str) -> None:
        if source not in SOURCES:
            raise UnknownSourceError(f"unknown source {source[:64]!r}; known: {', '.join(SOURCES)}")

    async def ready(self) -> bool:
        try:
            return await self.client.service_client.check_health(timeout=self.settings.readiness_timeout)
        except Exception:  # any failure to answer means "not ready", which is all a probe needs
            return False

    async def receive(
        self, source: str, headers: Mapping[str, str], body: bytes, *, path_token: str | None = None
    ) -> DeliveryReport:
        self.check_source(source)
        authenticate(source, self._credentials.get(source), headers, body, path_token)
        check_media_type(headers.get("content-type"))
        extracted = extract_pushes(SOURCES[source], headers, body)
        report = DeliveryReport(
            status="ignored",
            source=source,
            ignored=[IgnoredEvent(event=item.event, reason=item.reason) for item in extracted.skipped],
        )
        for push in extracted.pushes:
            await self._route(source, push, report)
        if report.accepted:
            report.status = "accepted"
        elif report.duplicates:
            report.status = "duplicate"
        report.workflow_ids = sorted({item.workflow_id for item in [*report.accepted, *report.duplicates]})
        return report

    async def _route(self, source: str, push: ImagePush, report: DeliveryReport) -> None:
        described = f"{push.repository}:{push.tag}"
        if not valid_tag(push.tag):
            report.ignored.append(IgnoredEvent(event=described[:200], reason="not a valid OCI tag"))
            return
        service = next((found for name in push.names if (found := self._watching.get(name)) is not None), None)
        if service is None:
            report.ignored.append(IgnoredEvent(event=described[:200], reason="no service watches this repository"))
            return
        keys = [f"delivery:{source}:{push.delivery_id}"]
        if push.digest is not None:
            keys.append(f"digest:{service.name}:{push.tag}:{push.digest}")
        event = PushEvent(
            service=service.name,
            repository=push.repository,
            tag=push.tag,
            digest_hint=push.digest,
            pushed_at=push.pushed_at,
            source=SourceEvent(
                source=source, delivery_id=push.delivery_id, received_at=datetime.now(UTC), actor=push.actor
            ),
        )
        if self._recent.seen(keys):
            report.duplicates.append(self._queued(event, service.name))
            log.info("redelivery ignored", source=source, service=service.name, tag=push.tag, delivery=push.delivery_id)
            return
        try:
            workflow_id = await enqueue_push(
                self.client, self.config, event, rpc_timeout=self.settings.temporal_rpc_timeout
            )
        except Exception as exc:  # RPC errors, timeouts, connection failures: all mean "retry later"
            log.warning("temporal refused the push", source=source, service=service.name, error=str(exc)[:300])
            raise PipelineUnavailableError("Temporal did not accept the push; retry later") from exc
        self._recent.remember(keys)
        report.accepted.append(self._queued(event, service.name, workflow_id))
        log.info(
            "push queued", source=source, service=service.name, tag=push.tag, digest=push.digest, workflow=workflow_id
        )

    def _queued(self, event: PushEvent, service: str, workflow_id: str | None = None) -> QueuedPush:
        return QueuedPush(
            service=service,
            repository=event.repository,
            tag=event.tag,
            digest_hint=event.digest_hint,
            delivery_id=event.source.delivery_id,
            workflow_id=workflow_id or intake_workflow_id(self.config, service),
        )
