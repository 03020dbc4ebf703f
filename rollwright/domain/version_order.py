"""Which of two versions is newer: semantic-version order when both tags are versions, push time otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

# (major, minor, patch, release-after-prerelease flag, prerelease identifiers)
SemverKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def semver_key(tag: str) -> SemverKey | None:
    """The sort key of a `1.2.3` / `v1.2.3-rc.1` tag, or None when the tag is not a version."""
    match = _SEMVER.match(tag)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    # semver: a pre-release sorts before its release; numeric identifiers sort before alphanumeric ones.
    identifiers = tuple((0, int(part)) if part.isdigit() else (1, part) for part in pre.split(".")) if pre else ()
    return (int(major), int(minor), int(patch), 0 if pre else 1, identifiers)


def is_newer(tag: str, pushed_at: datetime | None, than_tag: str, than_pushed_at: datetime | None) -> bool:
    """Whether `tag` (pushed at `pushed_at`) should replace `than_tag`.

    Equal versions (a re-pushed tag) and unknown push times fall back to arrival order, so the version
    being asked about, which arrived later, wins.
    """
    mine, theirs = semver_key(tag), semver_key(than_tag)
    if mine is not None and theirs is not None and mine != theirs:
        return mine > theirs
    if pushed_at is not None and than_pushed_at is not None:
        return _utc(pushed_at) > _utc(than_pushed_at)
    return True


def _utc(moment: datetime) -> datetime:
    # Registries differ in whether their timestamps carry a zone; naive ones are UTC in practice.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
