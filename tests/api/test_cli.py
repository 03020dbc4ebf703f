"""With `api.url` configured the CLI goes through the control API, with the token from the environment variable
`api.token_env` names: the audit names the token's subject, not `--actor`; the API's refusals are one line and
the CLI's usual exit codes."""

from __future__ import annotations

import pytest

from rollwright.control.deployments import deployment_status
from tests.api.conftest import APPROVER, DEPLOYER, ApiStack
from tests.api.test_auth import accepted_requests, waiting_for_prod


async def test_approve_goes_through_the_api_with_the_token_from_the_environment(
    api: ApiStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = await waiting_for_prod(api)
    via_api = api.via_api()

    monkeypatch.delenv(api.token_env, raising=False)
    no_token = await via_api.run("approve", api.service, "--reason", "ship it", "--environment", "prod")
    monkeypatch.setenv(api.token_env, api.issuer.token(DEPLOYER, ["deployers"]))
    not_an_approver = await via_api.run("approve", api.service, "--reason", "ship it", "--environment", "prod")
    unknown = await via_api.run("approve", "nope", "--reason", "ship it")
    monkeypatch.setenv(api.token_env, api.issuer.token(APPROVER, ["approvers"], aud="another-app"))
    wrong_audience = await via_api.run("approve", api.service, "--reason", "ship it", "--environment", "prod")
    monkeypatch.setenv(api.token_env, api.issuer.token(APPROVER, ["approvers"]))
    approved = await via_api.run("approve", api.service, "--reason", "ship it", "--environment", "prod", "--json")
    status = await via_api.run("status", api.service, "--json")

    assert no_token.code == 2
    assert no_token.err == f"rollwright: error: api.url is configured but no token was found in ${api.token_env}\n"
    assert not_an_approver.code == 1
    assert not_an_approver.err == f"rollwright: {DEPLOYER} may not approve in prod (needs: approver or admin)\n"
    # The CLI knows its config's services before it asks anyone.
    assert unknown.code == 2
    assert unknown.err.startswith("rollwright: error: unknown service 'nope'")
    assert wrong_audience.code == 2
    assert wrong_audience.err == (
        "rollwright: error: the control API refused the token: the token is meant for another audience\n"
    )
    assert approved.code == 0, approved.err
    assert approved.json()["message"] == "approved prod"
    assert status.code == 0, status.err
    [item] = status.json()
    assert item["service"] == api.service
    [request] = await accepted_requests(api.cli.env.client, waiting["workflow_id"], "approve")
    # `--actor alice` (tests/cli's runner) is not who the audit names: the API acts as the token's subject.
    assert request.actor == APPROVER
    assert request.attestation is not None
    assert request.attestation.operator.subject == APPROVER
    audited = await deployment_status(api.cli.env.client, waiting["workflow_id"])
    assert [(a.actor, a.verified) for a in audited.approvals] == [(APPROVER, True)]
