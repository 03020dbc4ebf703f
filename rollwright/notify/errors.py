"""Why a notification was not delivered.

NotifyError
 ├── NotifyRejectedError      the endpoint answered 4xx (not 429): the URL or message is wrong; retrying won't help
 └── NotifyUnavailableError   5xx, 429, timeouts or connection errors, still failing after the last retry
"""

from __future__ import annotations


class NotifyError(Exception):
    """A notification could not be delivered."""


class NotifyRejectedError(NotifyError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the endpoint refused the message: HTTP {status}: {detail}")
        self.status = status


class NotifyUnavailableError(NotifyError):
    def __init__(self, attempts: int, last_problem: str) -> None:
        super().__init__(f"not delivered after {attempts} attempt(s): {last_problem}")
        self.attempts = attempts
