"""Why a deployment stops early, and the signal that unwinds it to the rollback."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StopKind(StrEnum):
    CANARY_FAILED = "canary_failed"
    STEP_FAILED = "step_failed"
    ABORTED = "aborted"
    CHECK_FAILED = "check_failed"


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    reason: str
    actor: str = "rollwright"
    # Where it failed, when that is one environment: its `on_failure` says whether to roll back or halt.
    environment: str | None = None


class Stopping(Exception):
    """Raised at a safe point once a stop was requested; caught inside the workflow, never leaves it."""
