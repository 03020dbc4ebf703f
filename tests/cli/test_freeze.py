"""`rollwright freeze`/`unfreeze` on the dev server: a deployment waits before publish while frozen, status lists the
freeze and says why the deployment waits, unfreeze lets it go live; bad input is one line and exit 2, changing
nothing."""

from __future__ import annotations

import pytest

from rollwright.versionstore import VersionStore
from tests.cli.conftest import CliStack
from tests.cli.test_controls import live


def freezes_in(cli: CliStack) -> list[int]:
    with VersionStore(cli.version_store_url) as store:
        return [freeze.id for freeze in store.freeze_history()]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["freeze", "--all", "--reason", " "], "--reason must say why"),
        (["freeze", "--reason", "incident"], "name the services to freeze, or --all"),
        (["unfreeze", "--reason", "over"], "name the services to unfreeze, or --all"),
        (["freeze", "{service}", "--all", "--reason", "incident"], "not both"),
        (["freeze", "nope", "--reason", "incident"], "unknown service 'nope'"),
        (["freeze", "--all", "--env", "qa", "--reason", "incident"], "no service in scope has an environment 'qa'"),
        (["unfreeze", "{service}", "--env", "qa", "--reason", "over"], "no service in scope has an environment 'qa'"),
        (["freeze", "--all", "--reason", "incident", "--until", "soon"], "neither a duration"),
        (["freeze", "--all", "--reason", "incident", "--until", "2020-01-01T00:00:00Z"], "not in the future"),
        (["freeze", "--all", "--reason", "incident", "--until", "2999-01-01T00:00:00"], "needs a time zone"),
        (["freeze", "--all"], "--reason"),
    ],
)
async def test_bad_input_is_one_line_exit_2_and_records_nothing(cli: CliStack, argv: list[str], says: str) -> None:
    result = await cli.run(*(arg.format(service=cli.service) for arg in argv))
    assert result.code == 2, result.err
    assert says in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert freezes_in(cli) == []


async def test_a_frozen_service_waits_before_publish_and_unfreeze_lets_it_go_live(cli: CliStack) -> None:
    frozen = await cli.run("freeze", cli.service, "--env", "staging", "--reason", "incident 7", "--until", "2h")
    assert frozen.code == 0, frozen.err
    assert f"frozen #1 {cli.service} in staging until" in frozen.out
    again = await cli.run("freeze", cli.service, "--env", "staging", "--reason", "twice")
    assert again.code == 1
    assert "already frozen (#1" in again.err

    deployed = await cli.run("deploy", cli.service, "v1.0.0")
    assert deployed.code == 0, deployed.err

    def held(lanes: dict[str, object]) -> bool:
        staging = lanes["staging"]
        assert isinstance(staging, dict)
        deployment = staging.get("deployment") or {}
        return bool(deployment.get("held")) and deployment.get("phase") == "held"

    lanes = await cli.wait_for(held, "v1.0.0 never held by the freeze")
    assert "before publish: frozen by alice until" in lanes["staging"]["deployment"]["held"]
    assert lanes["staging"]["deployment"]["held"].endswith("incident 7")
    shown = await cli.run("status", cli.service)
    assert f"frozen: #1 {cli.service} in staging until" in shown.out
    assert "by alice since" in shown.out
    assert "held: before publish: frozen by alice" in shown.out

    thawed = await cli.run("unfreeze", cli.service, "--reason", "incident over")
    assert thawed.code == 0, thawed.err
    assert "lifted #1" in thawed.out
    assert "told 1 running deployment(s)" in thawed.out
    await cli.wait_for(live("staging", "v1.0.0"), "v1.0.0 never went live in staging after the unfreeze")
    assert "frozen:" not in (await cli.run("status", cli.service)).out

    nothing = await cli.run("unfreeze", "--all", "--reason", "again")
    assert nothing.code == 1
    assert "nothing is frozen in all services" in nothing.err
    with VersionStore(cli.version_store_url) as store:
        [audit] = store.freeze_history()
    assert (audit.actor, audit.reason, audit.lifted_by, audit.lift_reason) == (
        "alice",
        "incident 7",
        "alice",
        "incident over",
    )
