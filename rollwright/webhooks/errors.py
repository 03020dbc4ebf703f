"""Why the receiver refuses a delivery. Each error carries the HTTP status and a reason for the sender.

WebhookError
 ├── UnknownSourceError          404  no such source
 ├── UnauthorizedError           401  credential missing or wrong, or none configured
 ├── PayloadTooLargeError        413  body over the limit
 ├── UnsupportedMediaTypeError   415  not JSON
 ├── MalformedBodyError          400  not parseable JSON
 ├── InvalidPayloadError         422  JSON of the wrong shape (names the field)
 └── PipelineUnavailableError    503  Temporal did not accept the signal; the sender should retry
"""

from __future__ import annotations


class WebhookError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class UnknownSourceError(WebhookError):
    status_code = 404
    error = "unknown_source"


class UnauthorizedError(WebhookError):
    status_code = 401
    error = "unauthorized"


class PayloadTooLargeError(WebhookError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaTypeError(WebhookError):
    status_code = 415
    error = "unsupported_media_type"


class MalformedBodyError(WebhookError):
    status_code = 400
    error = "malformed_body"


class InvalidPayloadError(WebhookError):
    status_code = 422
    error = "invalid_payload"


class PipelineUnavailableError(WebhookError):
    status_code = 503
    error = "pipeline_unavailable"
