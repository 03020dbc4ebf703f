"""Whether a pushed, inspected version deserves a deployment: the pipeline's rules in one pure function.

Rules, in order: a digest already seen starts nothing; a digest marked bad and a tag failing the policy are
refused; a version not newer than the live or in-flight one is ignored; otherwise the newest of it and
the version already waiting goes next, and the other is superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import CandidateInfo
    from rollwright.domain.deployment import QueuedVersion
    from rollwright.domain.digest import short
    from rollwright.domain.version_order import is_newer


class Verdict(StrEnum):
    IGNORE = "ignore"
    NEXT = "next"  # goes next; supersedes whatever waited
    SUPERSEDED = "superseded"  # the version already waiting is newer


@dataclass(frozen=True)
class Screening:
    verdict: Verdict
    reason: str


class ScreenedAgainst(Protocol):
    """What the rules compare a candidate with: a pipeline's state, or a lane's."""

    @property
    def seen_digests(self) -> list[str]: ...
    @property
    def current(self) -> QueuedVersion | None: ...
    @property
    def next_up(self) -> QueuedVersion | None: ...
    @property
    def live_tag(self) -> str | None: ...
    @property
    def live_pushed_at(self) -> datetime | None: ...


def pushed_time(version: QueuedVersion) -> datetime | None:
    return version.pushed_at or version.source.received_at


def screen(version: QueuedVersion, info: CandidateInfo, state: ScreenedAgainst) -> Screening:
    """Judge `version` (its digest resolved into `info`) against the pipeline's state."""
    name = f"{version.tag} ({short(info.digest)})"
    if info.digest in state.seen_digests:
        return Screening(Verdict.IGNORE, f"{name}: digest already seen")
    if info.marked_bad:
        return Screening(Verdict.IGNORE, f"{name}: refused, digest marked bad ({info.bad_reason or 'no reason'})")
    if not info.tag_allowed:
        return Screening(Verdict.IGNORE, f"{name}: refused, tag does not match the policy {info.tag_policy!r}")
    when = pushed_time(version)
    current = state.current
    if current is not None and not is_newer(version.tag, when, current.tag, pushed_time(current)):
        return Screening(Verdict.IGNORE, f"{name}: not newer than {current.tag}, which is deploying")
    if state.live_tag is not None and not is_newer(version.tag, when, state.live_tag, state.live_pushed_at):
        return Screening(Verdict.IGNORE, f"{name}: not newer than {state.live_tag}, which is live")
    waiting = state.next_up
    if waiting is not None and not is_newer(version.tag, when, waiting.tag, pushed_time(waiting)):
        return Screening(Verdict.SUPERSEDED, f"{name}: {waiting.tag} is newer and already waiting")
    return Screening(Verdict.NEXT, f"{name}: next to deploy")
