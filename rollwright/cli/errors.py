"""Why a command stopped, and with which exit code. Each is printed as one line, never a traceback.

CliError
 ├── UsageError        exit 2: a bad argument, an unknown service, an invalid config file
 └── OperationFailed   exit 1: the request was valid but did not succeed (rejected, unreachable, failed)
"""

from __future__ import annotations


class CliError(Exception):
    exit_code = 1


class UsageError(CliError):
    exit_code = 2


class OperationFailed(CliError):
    exit_code = 1
