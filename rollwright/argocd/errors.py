"""Everything the Argo CD client raises, as one tree so callers catch what they mean.

    ArgoCDError                       any failure talking to Argo CD
     ├── ArgoCDAuthError              401: the token is missing, wrong or expired
     │    └── ArgoCDPermissionError   403: the token may not do this (Argo CD also answers 403 for an
     │                                application the caller cannot see, so it can mean "no such app")
     ├── ArgoCDNotFoundError          404: no such application or resource
     ├── ArgoCDRequestError           another 4xx: Argo CD refused the request as given
     │    └── OperationInProgressError  400 "another operation is already in progress" (a sync meets another one)
     ├── ArgoCDUnavailableError       5xx, 429, timeout or connection failure
     ├── ArgoCDResponseError          a 2xx answer that does not have the documented shape
     └── UnjudgeableRolloutError      the follower met a Rollout whose outcome it cannot read (spec.workloadRef,
                                      a controller before Argo Rollouts 1.0): no answer to come will change that

The client raises each at once: it sends every request once and retries only opening a connection. Only
ArgoCDUnavailableError and OperationInProgressError pass by themselves; the follower waits for them within its
stated budgets (FollowSettings), and past those the activity leaves them to Temporal. So it does for a 403 once the
hand-off's sync was accepted (a restarted argocd-server denies everything until its RBAC policy is loaded). The
rest need a person.
"""

from __future__ import annotations


class ArgoCDError(Exception):
    """A failed call to Argo CD; `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ArgoCDAuthError(ArgoCDError):
    pass


class ArgoCDPermissionError(ArgoCDAuthError):
    pass


class ArgoCDNotFoundError(ArgoCDError):
    pass


class ArgoCDRequestError(ArgoCDError):
    pass


class OperationInProgressError(ArgoCDRequestError):
    pass


class ArgoCDUnavailableError(ArgoCDError):
    pass


class ArgoCDResponseError(ArgoCDError):
    pass


class UnjudgeableRolloutError(ArgoCDError):
    pass
