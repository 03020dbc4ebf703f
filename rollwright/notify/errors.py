"""Why a notification was not delivered.

NotifyError
 ├── NotifyRejectedError      the endpoint answered 4xx (not 429): the URL or message is wrong; retrying won't help
 └── NotifyUnavailableError   5xx, 429, a timeout or a connection error on the one attempt: it may pass later
"""

from __future__ import annotations


class NotifyError(Exception):
    """A notification could not be delivered."""


class NotifyRejectedError(NotifyError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the endpoint refused the message: HTTP {status}: {detail}")
        self.status = status


class NotifyUnavailableError(NotifyError):
    def __init__(self, problem: str) -> None:
        super().__init__(f"the endpoint could not take the message now: {problem}")
