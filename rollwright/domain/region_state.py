"""The states a version goes through in one region, as the version store records them."""

from __future__ import annotations

from enum import StrEnum


class RegionState(StrEnum):
    DEPLOYING = "deploying"
    LIVE = "live"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    REMOVED = "removed"
