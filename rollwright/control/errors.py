"""Why a control operation did not happen. Each carries one line saying why; nothing was changed.

ControlError
 ├── NotFound      no such service, environment or recorded version          (HTTP 404, CLI exit 2)
 ├── Invalid       the request cannot be right whatever the state is           (HTTP 400, CLI exit 2)
 ├── Conflict      valid, but it makes no sense now: a validator refused it,
 │                 nothing runs, the version is marked bad…                    (HTTP 409, CLI exit 1)
 ├── Forbidden     the verified operator's roles do not allow it here          (HTTP 403, CLI exit 1)
 └── Unavailable   Temporal or the version store did not answer                (HTTP 503, CLI exit 1)
"""

from __future__ import annotations

import re

_SPACES_RE = re.compile(r"\s+")


def one_line(text: object, limit: int = 300) -> str:
    """Error text from libraries can span lines; an answer is one line."""
    return _SPACES_RE.sub(" ", str(text)).strip()[:limit]


class ControlError(Exception):
    """Base of every refusal; `str(exc)` is the one line to show."""

    status_code = 500
    error = "control_error"


class NotFound(ControlError):
    status_code = 404
    error = "not_found"


class Invalid(ControlError):
    status_code = 400
    error = "invalid"


class Conflict(ControlError):
    status_code = 409
    error = "conflict"


class Forbidden(ControlError):
    status_code = 403
    error = "forbidden"


class Unavailable(ControlError):
    status_code = 503
    error = "unavailable"
