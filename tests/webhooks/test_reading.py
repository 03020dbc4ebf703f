"""A delivery's body is read in one pass (pydantic reads the JSON itself), and every body is answered exactly as
reading it in two (json.loads, then validating what it built) always answered it: the same pushes and skipped
events, or the same refusal with the same reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rollwright.webhooks.body import describe_validation_error, parse_json
from rollwright.webhooks.errors import WebhookError
from rollwright.webhooks.payloads.common import Extracted
from rollwright.webhooks.receiver import extract_pushes
from rollwright.webhooks.sources import SOURCES, Source
from tests.webhooks.test_fuzz import bodies


def two_pass(source: Source, headers: Mapping[str, str], body: bytes) -> Extracted:
    data = parse_json(body)
    skipped = source.skip(headers)
    if skipped is not None:
        return Extracted(skipped=[skipped])
    try:
        return source.extract(source.payload.model_validate(data), headers, body)
    except ValidationError as exc:
        raise describe_validation_error(source.name, exc) from None


def outcome(read: Any, source: Source, headers: Mapping[str, str], body: bytes) -> tuple[Any, ...]:
    try:
        return ("read", read(source, headers, body))
    except WebhookError as exc:
        return ("refused", exc.status_code, exc.reason, exc.field)


@settings(max_examples=400, deadline=None, database=None)
@given(
    source=st.sampled_from(sorted(SOURCES)),
    body=bodies | st.sampled_from([b"", b"  ", b"\xef\xbb\xbf{}", '{"tag": "v1"}'.encode("utf-16"), b"[" * 300]),
    event=st.sampled_from([None, "package", "ping"]),
)
def test_one_pass_answers_as_two_passes(source: str, body: bytes, event: str | None) -> None:
    headers = {} if event is None else {"x-github-event": event}
    assert outcome(extract_pushes, SOURCES[source], headers, body) == outcome(two_pass, SOURCES[source], headers, body)
