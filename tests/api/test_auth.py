"""Issue 17, acceptance 4: through the control API, a token that does not prove who sent it (expired, another
issuer, another audience) is refused 401 and a role that does not allow the call 403, each changing nothing; a
valid approver's approve reaches the deployment, signed for it, and is audited under the token's subject."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from devstack.ports import free_port
from rollwright.config.loader import load_config
from rollwright.connections.temporal import connect_temporal
from rollwright.control.deployments import deployment_status
from rollwright.domain.attestation import attestation_problem
from rollwright.domain.deployment import ControlRequest
from rollwright.webhooks.app import create_app
from tests.api.conftest import APPROVER, DEPLOYER, ApiStack, Issuer, api_stack
from tests.cli.test_controls import awaiting, finished


async def waiting_for_prod(api: ApiStack) -> dict[str, Any]:
    """v1.0.0 live in staging, its prod deployment waiting for approval: the deployment's status."""
    assert (await api.cli.run("deploy", api.service, "v1.0.0")).code == 0
    lanes = await api.cli.wait_for(awaiting("prod"), "v1.0.0 never reached the prod approval")
    deployment: dict[str, Any] = {
        **lanes["prod"]["deployment"],
        "workflow_id": lanes["prod"]["lane"]["current_workflow_id"],
    }
    return deployment


async def accepted_requests(client: Client, workflow_id: str, name: str) -> list[ControlRequest]:
    """Every `name` update the workflow accepted, as its history recorded the request."""
    found = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if accepted.input.name == name:
                [request] = await client.data_converter.decode(accepted.input.args.payloads, [ControlRequest])
                found.append(request)
    return found


def approve_body(api: ApiStack) -> dict[str, str]:
    return {"service": api.service, "reason": "release train", "environment": "prod"}


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "the token has expired"),
        ({"iss": "https://login.elsewhere.example/realms/test"}, "the token was issued by another issuer"),
        ({"aud": "someone-else"}, "the token is meant for another audience"),
        ({"exp": None}, "the token has no 'exp' claim"),
    ],
    ids=["expired", "other-issuer", "wrong-audience", "no-expiry"],
)
async def test_a_token_that_proves_nothing_is_refused_401_and_changes_nothing(
    api: ApiStack, claims: dict[str, Any], reason: str
) -> None:
    before = await waiting_for_prod(api)
    token = api.issuer.token(APPROVER, ["approvers"], **claims)

    response = await api.http.post("/api/v1/approve", json=approve_body(api), headers=api.bearer(token))

    assert response.status_code == 401
    assert response.json() == {"error": "unauthenticated", "reason": reason}
    assert response.headers["www-authenticate"].startswith('Bearer realm="rollwright", error="invalid_token"')
    after = (await api.cli.status())["prod"]
    assert after["lane"]["current_workflow_id"] == before["workflow_id"]
    assert (after["deployment"]["awaiting_approval"], after["deployment"]["audit"]) == ("prod", [])


async def test_a_role_that_does_not_allow_it_is_refused_403_and_changes_nothing(api: ApiStack) -> None:
    await waiting_for_prod(api)
    body = approve_body(api)

    no_role = await api.http.post(
        "/api/v1/approve", json=body, headers=api.bearer(api.issuer.token("eve", ["interns"]))
    )
    deployer = await api.http.post("/api/v1/approve", json=body, headers=api.deployer())
    # Admin, but of staging only (api.roles.admin.environments): prod is not theirs to approve.
    staging_admin = await api.http.post(
        "/api/v1/approve", json=body, headers=api.bearer(api.issuer.token("sam", ["staging-admins"]))
    )

    assert no_role.status_code == 403
    assert no_role.json() == {"error": "forbidden", "reason": "eve holds no role (groups: interns)"}
    assert deployer.status_code == 403
    assert deployer.json()["reason"] == f"{DEPLOYER} may not approve in prod (needs: approver or admin)"
    assert staging_admin.status_code == 403
    assert staging_admin.json()["reason"] == "sam may not approve in prod (needs: approver or admin)"
    after = (await api.cli.status())["prod"]["deployment"]
    assert (after["awaiting_approval"], after["audit"]) == ("prod", [])


async def test_a_valid_approvers_approval_is_signed_and_audited_under_the_tokens_subject(api: ApiStack) -> None:
    waiting = await waiting_for_prod(api)
    workflow_id = waiting["workflow_id"]
    # An ES256 token, to show both published key types verify.
    token = api.issuer.token(APPROVER, ["approvers", "staff"], alg="ES256")

    response = await api.http.post("/api/v1/approve", json=approve_body(api), headers=api.bearer(token))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "service": api.service,
        "environment": "prod",
        "workflow_id": workflow_id,
        "control": "approve",
        "message": "approved prod",
    }
    lanes = await api.cli.wait_for(finished("prod", "v1.0.0", "succeeded"), "the approved deployment never finished")
    assert lanes["prod"]["lane"]["live"]["tag"] == "v1.0.0"
    audited = await deployment_status(api.cli.env.client, workflow_id)
    [approval] = audited.approvals
    assert (approval.environment, approval.actor, approval.verified) == ("prod", APPROVER, True)
    [entry] = [entry for entry in audited.audit if entry.action == "approve"]
    assert (entry.actor, entry.reason, entry.verified) == (APPROVER, "release train", True)
    [request] = await accepted_requests(api.cli.env.client, workflow_id, "approve")
    assert request.actor == APPROVER
    assert request.attestation is not None
    assert request.attestation.operator.subject == APPROVER
    assert request.attestation.operator.groups == ("approvers", "staff")
    # The worker's key (installed as worker.py does) vouches for exactly this request to this workflow.
    assert attestation_problem(request.attestation, "approve", workflow_id, request, datetime.now(UTC)) is None
    assert attestation_problem(request.attestation, "abort", workflow_id, request, datetime.now(UTC)) is not None


async def test_a_deployer_pauses_and_the_audit_names_the_subject(api: ApiStack) -> None:
    waiting = await waiting_for_prod(api)
    body = {"service": api.service, "reason": "dashboards look odd", "environment": "prod"}

    paused = await api.http.post("/api/v1/pause", json=body, headers=api.deployer())
    again = await api.http.post("/api/v1/pause", json=body, headers=api.deployer())

    assert paused.status_code == 200, paused.text
    assert again.status_code == 409
    assert again.json()["reason"].endswith("cannot pause: already paused")
    [entry] = (await api.cli.status())["prod"]["deployment"]["audit"]
    assert (entry["action"], entry["actor"], entry["reason"], entry["verified"]) == (
        "pause",
        DEPLOYER,
        "dashboards look odd",
        True,
    )
    [request] = await accepted_requests(api.cli.env.client, waiting["workflow_id"], "pause")
    assert request.attestation is not None
    assert request.attestation.operator.subject == DEPLOYER


async def test_unknown_services_bad_bodies_and_nothing_to_do_get_their_own_status(api: ApiStack) -> None:
    unknown = await api.http.post("/api/v1/rollback", json={"service": "nope", "reason": "x"}, headers=api.deployer())
    bad_env = await api.http.post(
        "/api/v1/release", json={"service": api.service, "reason": "x", "environment": "qa"}, headers=api.deployer()
    )
    no_token = await api.http.post("/api/v1/abort", json={"service": api.service, "reason": "x"})
    no_reason = await api.http.post("/api/v1/abort", json={"service": api.service}, headers=api.deployer())
    blank = await api.http.post("/api/v1/abort", json={"service": api.service, "reason": " "}, headers=api.deployer())
    extra = await api.http.post(
        "/api/v1/abort", json={"service": api.service, "reason": "x", "actor": "mallory"}, headers=api.deployer()
    )
    nothing_runs = await api.http.post(
        "/api/v1/abort", json={"service": api.service, "reason": "x"}, headers=api.deployer()
    )
    status = await api.http.get("/api/v1/status", params={"service": api.service}, headers=api.approver())

    assert no_token.status_code == 401
    assert no_token.json()["reason"] == "no bearer token (Authorization: Bearer <JWT>)"
    assert no_token.headers["www-authenticate"] == 'Bearer realm="rollwright"'
    assert unknown.status_code == 404
    assert unknown.json()["reason"].startswith("unknown service 'nope' (configured: ")
    assert bad_env.status_code == 404
    assert bad_env.json()["reason"] == f"{api.service} has no environment 'qa' (configured: staging, prod)"
    assert (no_reason.status_code, no_reason.json()["reason"]) == (422, "reason: Field required")
    assert blank.status_code == 422
    assert blank.json()["reason"] == "reason: Value error, reason must say why"
    # Who acts is the token's subject, never a field the caller sets.
    assert (extra.status_code, extra.json()["reason"]) == (422, "actor: Extra inputs are not permitted")
    assert nothing_runs.status_code == 409
    assert nothing_runs.json()["reason"] == f"no deployment of {api.service} is running"
    assert status.status_code == 200
    [item] = status.json()
    assert [view["environment"] for view in item["lanes"]] == ["staging", "prod"]


async def test_an_unreachable_temporal_or_issuer_is_a_503_with_a_reason(api: ApiStack) -> None:
    config = load_config(api.cli.config_path)
    dead_temporal = await connect_temporal(
        config.temporal.model_copy(update={"address": f"127.0.0.1:{free_port()}"}), lazy=True
    )
    body = {"service": api.service, "reason": "x"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config, dead_temporal)), base_url="http://rollwright"
    ) as http:
        no_temporal = await http.post("/api/v1/pause", json=body, headers=api.deployer())
    gone = config.model_copy(
        update={"api": config.api.model_copy(update={"jwks_url": f"http://127.0.0.1:{free_port()}/certs"})}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(gone, api.cli.env.client)), base_url="http://rollwright"
    ) as http:
        no_issuer = await http.post("/api/v1/pause", json=body, headers=api.deployer())

    assert no_temporal.status_code == 503
    assert no_temporal.json()["error"] == "unavailable"
    assert no_issuer.status_code == 503
    assert no_issuer.json()["reason"].startswith("cannot read the issuer's keys at http://127.0.0.1:")


async def test_where_prod_requires_verified_controls_only_the_apis_approval_counts(
    temporal_env: WorkflowEnvironment, tmp_path: Path, issuer: Issuer
) -> None:
    async with api_stack(temporal_env, tmp_path, issuer, prod={"require_verified": True}) as api:
        waiting = await waiting_for_prod(api)
        # Straight to Temporal, under a name anyone can type.
        typed = await api.cli.run("approve", api.service, "--reason", "trust me", "--environment", "prod")
        still = (await api.cli.status())["prod"]["deployment"]
        through_api = await api.http.post("/api/v1/approve", json=approve_body(api), headers=api.approver())
        await api.cli.wait_for(finished("prod", "v1.0.0", "succeeded"), "the approved deployment never finished")
        audited = await deployment_status(api.cli.env.client, waiting["workflow_id"])

    assert typed.code == 1
    assert "requires verified controls" in typed.err
    assert len(typed.err.strip().splitlines()) == 1
    assert (still["awaiting_approval"], still["approvals"]) == ("prod", [])
    assert through_api.status_code == 200, through_api.text
    assert [(a.actor, a.verified) for a in audited.approvals] == [(APPROVER, True)]
