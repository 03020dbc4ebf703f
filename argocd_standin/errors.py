"""Errors the stand-in answers with, in Argo CD's shape: gRPC code + HTTP status + message."""

from __future__ import annotations

from typing import Any


class StandinError(Exception):
    def __init__(self, http_status: int, grpc_code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.grpc_code = grpc_code
        self.message = message

    def body(self) -> dict[str, Any]:
        """A grpc-gateway `runtimeError`."""
        return {"error": self.message, "code": self.grpc_code, "message": self.message, "details": []}


def not_found(message: str) -> StandinError:
    return StandinError(404, 5, message)


def invalid_argument(message: str) -> StandinError:
    return StandinError(400, 3, message)


def failed_precondition(message: str) -> StandinError:
    return StandinError(400, 9, message)


def unauthenticated(message: str) -> StandinError:
    return StandinError(401, 16, message)
