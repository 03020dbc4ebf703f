"""What every command gets: the loaded config, who is acting, how to print, and a Temporal client on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from pydantic import BaseModel, TypeAdapter
from temporalio.client import Client

from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.connections.temporal import TemporalSettingsError, TemporalUnreachableError, connect_temporal
from rollwright.control.acting import Acting
from rollwright.control.errors import one_line
from rollwright.control.lanes import RPC_TIMEOUT

__all__ = ["RPC_TIMEOUT", "Context", "one_line"]


@dataclass
class Context:
    config: RollwrightConfig
    actor: str
    as_json: bool
    out: IO[str]
    _client: Client | None = field(default=None, repr=False)

    def service(self, name: str) -> ServiceConfig:
        try:
            return self.config.service(name)
        except KeyError:
            known = ", ".join(service.name for service in self.config.services)
            raise UsageError(f"unknown service {name!r} (configured: {known})") from None

    async def client(self) -> Client:
        if self._client is None:
            try:
                self._client = await connect_temporal(self.config.temporal)
            except TemporalSettingsError as exc:
                raise UsageError(one_line(exc, limit=500)) from None
            except TemporalUnreachableError as exc:
                raise OperationFailed(one_line(exc)) from None
        return self._client

    @property
    def acting(self) -> Acting:
        """Straight to Temporal, the actor is the name given: unverified, and no role is checked."""
        return Acting(actor=self.actor)

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def emit(self, data: BaseModel | Sequence[BaseModel], human: str) -> None:
        """JSON for scripts (`--json`), the human rendering otherwise."""
        if not self.as_json:
            self.print(human)
        elif isinstance(data, BaseModel):
            self.print(data.model_dump_json(indent=2))
        else:
            self.print(TypeAdapter(list[BaseModel]).dump_json(list(data), indent=2, serialize_as_any=True).decode())
