"""Argo CD client: typed calls over its REST API, Rollout status reading, and sync-and-follow. No Temporal here."""

from rollwright.argocd.client import ArgoCDClient
from rollwright.argocd.config import ArgoCDClientConfig, ConnectRetries, Timeouts, TLSOptions
from rollwright.argocd.errors import (
    ArgoCDAuthError,
    ArgoCDError,
    ArgoCDNotFoundError,
    ArgoCDPermissionError,
    ArgoCDRequestError,
    ArgoCDResponseError,
    ArgoCDUnavailableError,
    OperationInProgressError,
)
from rollwright.argocd.follow import FollowOutcome, FollowProgress, FollowSettings, RolloutFollower, WaitBudget
from rollwright.argocd.models import ResourceRef
from rollwright.argocd.rollout_status import RolloutStatus, RolloutVerdict, interpret_rollout
from rollwright.argocd.watch import StreamSettings, StreamState

__all__ = [
    "ArgoCDAuthError",
    "ArgoCDClient",
    "ArgoCDClientConfig",
    "ArgoCDError",
    "ArgoCDNotFoundError",
    "ArgoCDPermissionError",
    "ArgoCDRequestError",
    "ArgoCDResponseError",
    "ArgoCDUnavailableError",
    "ConnectRetries",
    "FollowOutcome",
    "FollowProgress",
    "FollowSettings",
    "OperationInProgressError",
    "ResourceRef",
    "RolloutFollower",
    "RolloutStatus",
    "RolloutVerdict",
    "StreamSettings",
    "StreamState",
    "TLSOptions",
    "Timeouts",
    "WaitBudget",
    "interpret_rollout",
]
