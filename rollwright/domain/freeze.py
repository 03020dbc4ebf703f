"""Freezes ("stop the line"): no deployment starts or goes on in their scope until they are lifted or expire.

A freeze is never deleted: lifting it stamps who lifted it, when and why, so the version store's `freezes` table is
its own audit trail. Rollbacks are never held by one (the workflows make sure of that, not this module).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FreezeScope(BaseModel):
    """Which deployments a freeze stops: `services` (empty: every service), in `environment` (None: every one)."""

    model_config = ConfigDict(frozen=True)

    services: tuple[str, ...] = ()
    environment: str | None = None

    @property
    def all_services(self) -> bool:
        return not self.services

    def covers(self, service: str, environment: str) -> bool:
        return (self.all_services or service in self.services) and self.environment in (None, environment)

    def within(self, other: FreezeScope) -> bool:
        """Whether every deployment this scope stops is also in `other` (what an unfreeze of `other` lifts)."""
        services_within = other.all_services or (not self.all_services and set(self.services) <= set(other.services))
        return services_within and other.environment in (None, self.environment)

    def overlaps(self, other: FreezeScope) -> bool:
        services = self.all_services or other.all_services or bool(set(self.services) & set(other.services))
        return services and (self.environment is None or other.environment in (None, self.environment))

    def describe(self) -> str:
        who = "all services" if self.all_services else ", ".join(self.services)
        return who + (f" in {self.environment}" if self.environment else "")


class Freeze(BaseModel):
    """One freeze as the version store keeps it; `lifted_at` set once it was lifted by `rollwright unfreeze`."""

    id: int
    scope: FreezeScope
    reason: str = Field(min_length=1)
    actor: str = Field(min_length=1)
    # The actor came verified through the control API (a bearer token), not as free text.
    verified: bool = False
    created_at: datetime
    until: datetime | None = None
    # Deployments already running when the freeze came go on to the end; only new ones wait.
    let_running_finish: bool = False
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    def applies_to(self, service: str, environment: str) -> bool:
        return self.scope.covers(service, environment)

    def active_at(self, moment: datetime) -> bool:
        if self.created_at > moment:
            return False
        if self.lifted_at is not None and self.lifted_at <= moment:
            return False
        return self.until is None or moment < self.until

    def holds(self, service: str, environment: str, started_at: datetime) -> bool:
        """Whether a deployment of `service` to `environment` that started at `started_at` must wait for it."""
        if not self.applies_to(service, environment):
            return False
        return not (self.let_running_finish and self.created_at > started_at)

    def describe(self) -> str:
        until = f" until {self.until:%Y-%m-%d %H:%M} UTC" if self.until else ""
        return f"frozen by {self.actor}{until}: {self.reason}"


def holding(
    freezes: Iterable[Freeze], service: str, environment: str, started_at: datetime, at: datetime
) -> list[Freeze]:
    """The freezes active at `at` that hold this deployment, oldest first."""
    found = [f for f in freezes if f.active_at(at) and f.holds(service, environment, started_at)]
    return sorted(found, key=lambda f: (f.created_at, f.id))


def earliest_expiry(freezes: Sequence[Freeze]) -> datetime | None:
    """When the first of `freezes` expires by itself (None: none has an `until`)."""
    ends = [f.until for f in freezes if f.until is not None]
    return min(ends) if ends else None
