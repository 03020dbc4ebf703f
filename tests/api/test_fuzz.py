"""Issue 17, acceptance 5, property-based: whatever an unauthenticated or unauthorized client sends to the control
API (any path under /api/v1, any body, no token, garbage, a token signed by an unknown key, `alg: none`, HS256
keyed with the issuer's public key, a valid token with no role), it gets a 4xx with a reason, never a 5xx, and
nothing changes: the deployment waiting for prod's approval still waits, unpaused, with an empty audit trail, and
nothing was frozen."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollwright.control.models import Action
from rollwright.versionstore import VersionStore
from tests.api.conftest import APPROVER, ApiStack
from tests.api.test_auth import waiting_for_prod

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=25,
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
path_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#%"), max_size=30)


def lane_state(lanes: dict[str, Any]) -> dict[str, Any]:
    """What a refused request must not have changed, in every lane."""
    return {
        env: {
            "lane": {key: (view["lane"] or {}).get(key) for key in ("live", "hold", "current_workflow_id", "next_up")},
            "deployment": {
                key: (view["deployment"] or {}).get(key) for key in ("paused", "awaiting_approval", "audit", "phase")
            },
        }
        for env, view in lanes.items()
    }


async def test_malformed_and_unauthenticated_requests_never_get_a_5xx_nor_change_anything(api: ApiStack) -> None:
    await waiting_for_prod(api)
    before = lane_state(await api.cli.status())
    issuer = api.issuer
    actions = [action.value for action in Action]

    def order(draw_service: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": "fuzz", "environment": "prod"}
        if draw_service:
            body["service"] = api.service
        return body

    no_role = [f"Bearer {issuer.token('eve', ['interns'])}", f"Bearer {issuer.token('eve', [])}"]
    tokens = st.one_of(
        st.none(),
        st.sampled_from(no_role),
        header_text,
        header_text.map(lambda text: f"Bearer {text}"),
        st.sampled_from(
            [
                issuer.stranger_token(APPROVER, ["approvers", "deployers"]),
                issuer.unsigned_token(APPROVER, ["approvers", "deployers"]),
                issuer.hmac_with_public_key(APPROVER, ["approvers", "deployers"]),
                issuer.token(APPROVER, ["approvers"], exp=int(time.time()) - 600, iat=int(time.time()) - 900),
                issuer.token(APPROVER, ["approvers"], aud="another-app"),
                issuer.token(APPROVER, ["approvers"], kid="no-such-key"),
                issuer.token("eve", ["interns"]),
                issuer.token("eve", []),
            ]
        ).map(lambda token: f"Bearer {token}"),
        # A published key's token, one character of its signature changed.
        st.integers(min_value=1, max_value=40).map(
            lambda index: "Bearer " + _flip(issuer.token(APPROVER, ["approvers", "deployers"]), index)
        ),
    )
    bodies = st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.builds(order, st.booleans()).map(lambda value: json.dumps(value).encode()),
    )
    statuses: list[int] = []
    loop = asyncio.get_running_loop()

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        method=st.sampled_from(["POST", "POST", "GET", "PUT", "DELETE"]),
        path=st.one_of(
            st.sampled_from(actions),
            st.sampled_from(actions),
            path_text,
            st.sampled_from(actions).map(lambda a: f"{a}/x"),
        ),
        body=bodies,
        authorization=tokens,
        content_type=st.sampled_from([None, "application/json", "text/plain"]),
    )
    def send(method: str, path: str, body: bytes, authorization: str | None, content_type: str | None) -> None:
        headers = {}
        if authorization is not None:
            headers["authorization"] = authorization
        if content_type is not None:
            headers["content-type"] = content_type

        async def call() -> int:
            response = await api.http.request(method, f"/api/v1/{path}", content=body, headers=headers)
            if response.status_code in (401, 403, 422):
                assert response.json()["reason"], response.text
            return response.status_code

        status = asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=30)
        assert 400 <= status < 500, (method, path, body[:200], headers)
        statuses.append(status)

    # The app and the Temporal client live on this loop; hypothesis drives them from a worker thread.
    await asyncio.to_thread(send)

    assert {401, 403, 404} <= set(statuses)
    assert lane_state(await api.cli.status()) == before
    with VersionStore(api.cli.version_store_url) as store:
        assert store.freeze_history() == []


def _flip(token: str, index: int) -> str:
    """`token` with the character `index` places from its end changed (inside the signature)."""
    position = len(token) - index
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]
