"""Reading a delivery's body safely: bounded size, JSON media types only, errors that name the field."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError

from rollwright.webhooks.errors import (
    InvalidPayloadError,
    MalformedBodyError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)


async def read_bounded(content_length: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, refusing anything over `limit` bytes before and while it streams in."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise PayloadTooLargeError(f"body of {content_length} bytes is over the {limit}-byte limit")
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLargeError(f"body is over the {limit}-byte limit")
    return bytes(body)


def check_media_type(content_type: str | None) -> None:
    """JSON, including registry-specific `application/vnd.…+json` types (Distribution's event envelope)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    shown = media_type or "none"
    raise UnsupportedMediaTypeError(f"content type {shown!r} is not JSON; send application/json")


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise MalformedBodyError("the body is empty")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad JSON, bad UTF-8 and over-long integers.
        raise MalformedBodyError(f"the body is not valid JSON: {str(exc)[:200]}") from None


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def describe_validation_error(source: str, error: ValidationError) -> InvalidPayloadError:
    first = error.errors(include_url=False, include_input=False)[0]
    field = _field(tuple(first["loc"]))
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return InvalidPayloadError(f"not a {source} payload: {field}: {first['msg']}{suffix}", field=field)
