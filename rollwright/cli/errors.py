"""Why a command stopped, and with which exit code. Each is printed as one line, never a traceback.

CliError
 ├── UsageError        exit 2: a bad argument, an unknown service, an invalid config file
 └── OperationFailed   exit 1: the request was valid but did not succeed (rejected, unreachable, failed)

A control operation's refusal (rollwright.control.errors) becomes one of these in `as_cli_error`.
"""

from __future__ import annotations

from rollwright.control.errors import ControlError, Invalid, NotFound


class CliError(Exception):
    exit_code = 1


class UsageError(CliError):
    exit_code = 2


class OperationFailed(CliError):
    exit_code = 1


def as_cli_error(exc: ControlError) -> CliError:
    """What cannot be right (no such service, a bad argument) is a usage error; the rest failed."""
    return UsageError(str(exc)) if isinstance(exc, NotFound | Invalid) else OperationFailed(str(exc))
