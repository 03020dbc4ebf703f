"""Why a control operation refused, as the CLI (exit codes) and the control API (HTTP statuses) map it.

ControlError
 ├── Invalid     the request itself is malformed (no reason, an expiry in the past)      CLI 2, HTTP 400/422
 ├── NotFound    it names a service or environment nobody configured                     CLI 2, HTTP 404
 ├── Forbidden   the operator may not do this                                            CLI 1, HTTP 403
 └── Conflict    it makes no sense now (unfreeze with nothing frozen, frozen already)    CLI 1, HTTP 409

Nothing is changed when one is raised.
"""

from __future__ import annotations


class ControlError(Exception):
    """Base of every refusal of a control operation; its message says why, in one line."""


class Invalid(ControlError):
    pass


class NotFound(ControlError):
    pass


class Forbidden(ControlError):
    pass


class Conflict(ControlError):
    pass
