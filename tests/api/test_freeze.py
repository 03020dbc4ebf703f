"""freeze and unfreeze through the control API and the CLI on it: admin only, in every environment the scope
reaches; the freeze records the token's subject as verified, holds a deployment, and unfreeze lets it go live."""

from __future__ import annotations

from typing import Any

import pytest

from rollwright.versionstore import VersionStore
from tests.api.conftest import ApiStack
from tests.cli.test_controls import live

STAGING_ADMIN = "sam@example.com"


def freezes_in(api: ApiStack) -> list[tuple[str, bool, str | None]]:
    with VersionStore(api.cli.version_store_url) as store:
        return [(freeze.actor, freeze.verified, freeze.lifted_by) for freeze in store.freeze_history()]


def held(lanes: dict[str, Any]) -> bool:
    deployment = lanes["staging"].get("deployment") or {}
    return bool(deployment.get("held"))


async def test_an_admin_freezes_through_the_api_and_others_may_not(api: ApiStack) -> None:
    admin = api.bearer(api.issuer.token(STAGING_ADMIN, ["staging-admins"]))
    staging = {"services": [api.service], "environment": "staging", "reason": "incident 7"}

    everywhere = await api.http.post("/api/v1/freeze", json={"all_services": True, "reason": "x"}, headers=admin)
    deployer = await api.http.post("/api/v1/freeze", json=staging, headers=api.deployer())
    assert freezes_in(api) == []
    frozen = await api.http.post("/api/v1/freeze", json=staging, headers=admin)
    assert (await api.cli.run("deploy", api.service, "v1.0.0")).code == 0
    lanes = await api.cli.wait_for(held, "v1.0.0 never held by the freeze")
    shown = await api.http.get("/api/v1/status", params={"service": api.service}, headers=admin)
    # Lifting every freeze of the service would reach prod too.
    too_wide = await api.http.post(
        "/api/v1/unfreeze", json={"services": [api.service], "reason": "incident over"}, headers=admin
    )
    thawed = await api.http.post(
        "/api/v1/unfreeze",
        json={"services": [api.service], "environment": "staging", "reason": "incident over"},
        headers=admin,
    )
    await api.cli.wait_for(live("staging", "v1.0.0"), "v1.0.0 never went live after the unfreeze")

    # Admin of staging only (api.roles.admin.environments): all services reach prod too.
    assert everywhere.status_code == 403
    assert everywhere.json()["reason"] == f"{STAGING_ADMIN} may not freeze in prod (needs: admin)"
    assert deployer.status_code == 403
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["freeze"]["actor"] == STAGING_ADMIN
    assert f"frozen by {STAGING_ADMIN}" in lanes["staging"]["deployment"]["held"]
    [item] = shown.json()
    [listed] = item["freezes"]
    assert (listed["actor"], listed["verified"], listed["reason"]) == (STAGING_ADMIN, True, "incident 7")
    assert too_wide.status_code == 403
    assert thawed.status_code == 200, thawed.text
    assert freezes_in(api) == [(STAGING_ADMIN, True, STAGING_ADMIN)]


async def test_the_cli_freezes_and_unfreezes_through_the_api(api: ApiStack, monkeypatch: pytest.MonkeyPatch) -> None:
    via_api = api.via_api()
    monkeypatch.setenv(api.token_env, api.issuer.token(STAGING_ADMIN, ["staging-admins"]))

    everywhere = await via_api.run("freeze", "--all", "--reason", "incident")
    frozen = await via_api.run("freeze", api.service, "--env", "staging", "--reason", "incident", "--until", "2h")
    shown = await via_api.run("status", api.service)
    thawed = await via_api.run("unfreeze", api.service, "--env", "staging", "--reason", "over")

    assert everywhere.code == 1
    assert everywhere.err == f"rollwright: {STAGING_ADMIN} may not freeze in prod (needs: admin)\n"
    assert frozen.code == 0, frozen.err
    assert f"frozen #1 {api.service} in staging until" in frozen.out
    assert f"by {STAGING_ADMIN} since" in shown.out
    assert thawed.code == 0, thawed.err
    assert "lifted #1" in thawed.out
    assert freezes_in(api) == [(STAGING_ADMIN, True, STAGING_ADMIN)]
