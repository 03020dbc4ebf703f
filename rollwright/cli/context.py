"""What every command gets: the loaded config, who is acting, how to print, and a Temporal client on demand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO

from pydantic import BaseModel, TypeAdapter
from temporalio.client import Client

from rollwright.cli.errors import OperationFailed, UsageError
from rollwright.config.models import RollwrightConfig, ServiceConfig
from rollwright.connections.temporal import TemporalSettingsError, TemporalUnreachableError, connect_temporal

# How long one Temporal call may take before the command gives up and says so.
RPC_TIMEOUT = timedelta(seconds=15)
_ERROR_DETAIL_RE = re.compile(r"\s+")


def one_line(text: object, limit: int = 300) -> str:
    """Error text from libraries can span lines; a CLI answer is one line."""
    return _ERROR_DETAIL_RE.sub(" ", str(text)).strip()[:limit]


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
