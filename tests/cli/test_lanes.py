"""rollback, release, promote and pins against the real LaneWorkflow on the dev server (activities doubled)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from rollwright.versionstore import VersionStore
from tests.cli.conftest import CliStack, cli_stack
from tests.cli.doubles import digest_of
from tests.cli.test_controls import awaiting, live


async def _live_everywhere(cli: CliStack, tag: str) -> None:
    """Push `tag`, approve it into prod, and wait until both lanes run it."""
    assert (await cli.run("deploy", cli.service, tag)).code == 0
    await cli.wait_for(awaiting("prod"), f"{tag} never reached the prod approval")
    approved = await cli.run("approve", cli.service, "--reason", "ok", "--environment", "prod")
    assert approved.code == 0, approved.err
    await cli.wait_for(live("prod", tag), f"{tag} never went live in prod")


def held(environment: str, kind: str, tag: str) -> Any:
    def check(lanes: dict[str, Any]) -> bool:
        return live(environment, tag)(lanes) and (lanes[environment]["lane"]["hold"] or {}).get("kind") == kind

    return check


async def test_a_pin_holds_its_lane_until_released(cli: CliStack) -> None:
    await _live_everywhere(cli, "v1.1.0")

    older = await cli.run("deploy", cli.service, "v1.0.0")
    assert older.code == 2
    how = (
        f"to pin {cli.service} on v1.0.0 in staging: rollwright deploy {cli.service} v1.0.0 --env staging --reason TEXT"
    )
    assert older.err.strip() == f"rollwright: error: v1.0.0 is not newer than v1.1.0, live in staging; {how}"
    no_reason = await cli.run("deploy", cli.service, "v1.0.0", "--env", "staging")
    assert no_reason.code == 2
    assert no_reason.err.strip().endswith(how)

    pinned = await cli.run("deploy", cli.service, "v1.0.0", "--env", "staging", "--reason", "reproduce a bug")
    assert pinned.code == 0, pinned.err
    assert "pinning staging on v1.0.0" in pinned.out
    lanes = await cli.wait_for(held("staging", "pin", "v1.0.0"), "staging was never pinned on v1.0.0")
    # Acceptance 3: prod keeps v1.1.0, and a pinned lane offers nothing onwards.
    assert lanes["prod"]["lane"]["live"]["tag"] == "v1.1.0"
    assert lanes["prod"]["promotion_due"] == {
        "source": "staging",
        "manual": False,
        "tag": None,
        "digest": None,
        "due_at": None,
    }
    hold = lanes["staging"]["lane"]["hold"]
    assert (hold["actor"], hold["reason"]) == ("alice", "reproduce a bug")

    assert (await cli.run("deploy", cli.service, "v1.2.0")).code == 0

    def waits(lanes: dict[str, Any]) -> bool:
        return ((lanes["staging"]["lane"] or {}).get("next_up") or {}).get("tag") == "v1.2.0"

    await cli.wait_for(waits, "v1.2.0 never waited in the held staging lane")
    shown = await cli.run("status", cli.service)
    assert "held: pin on v1.0.0 by alice" in shown.out
    assert "reproduce a bug" in shown.out
    assert "queued: v1.2.0 (waits for release)" in shown.out

    released = await cli.run("release", cli.service, "--reason", "bug found")
    assert released.code == 0, released.err
    assert released.out.strip() == "staging: released staging (was held: reproduce a bug); v1.2.0 goes next"
    await cli.wait_for(awaiting("prod"), "v1.2.0 never went on to prod after the release")
    assert (await cli.status())["prod"]["deployment"]["tag"] == "v1.2.0"

    again = await cli.run("release", cli.service, "--reason", "twice")
    assert again.code == 1
    assert again.err.strip() == f"rollwright: no lane of {cli.service} is held: there is nothing to release"
    one = await cli.run("release", cli.service, "--env", "prod", "--reason", "x")
    assert one.code == 1
    assert one.err.strip() == f"rollwright: release rejected by lane-{cli.service}-prod: prod is not held"


async def test_rollback_of_every_lane_goes_last_lane_first(cli: CliStack) -> None:
    await _live_everywhere(cli, "v1.0.0")
    await _live_everywhere(cli, "v1.1.0")
    bad = digest_of("v0.9.0")
    with VersionStore(cli.version_store_url) as store:
        store.record_version(service=cli.service, tag="v0.9.0", digest=bad, image="registry.local:5000/shop/x")
        store.mark_bad(service=cli.service, digest=bad, reason="canary failed", actor="rollwright")

    refused = await cli.run("rollback", cli.service, "--to", "v0.9.0", "--reason", "older")
    assert refused.code == 1
    assert refused.err.strip() == (
        f"rollwright: {cli.service} v0.9.0 ({bad[:19]}) is marked bad (rollwright: canary failed); "
        f"`rollwright unblock {cli.service} {bad} --reason TEXT` first"
    )

    # --keep-good: nothing is marked bad, so neither lane hears of the other's rollback.
    rolled = await cli.run("rollback", cli.service, "--keep-good", "--reason", "slow checkout", "--json")
    assert rolled.code == 0, rolled.err
    answers = rolled.json()
    assert [answer["environment"] for answer in answers] == ["prod", "staging"]
    assert answers[0]["message"].startswith("rolling prod back from v1.1.0 to v1.0.0; prod is held")
    assert all(answer["workflow_id"] for answer in answers)

    for environment in ("prod", "staging"):
        await cli.wait_for(held(environment, "rollback", "v1.0.0"), f"{environment} never rolled back to v1.0.0")
    shown = await cli.run("status", cli.service)
    assert shown.out.count("held: rollback on v1.0.0 by alice") == 2
    assert "last deployment: rollback v1.0.0 succeeded" in shown.out

    # Back to the version just replaced, named by digest: the lane's own list knows it.
    forward = await cli.run("rollback", cli.service, "--env", "prod", "--to", digest_of("v1.1.0"), "--reason", "r")
    assert forward.code == 0, forward.err
    assert forward.out.startswith("prod: rolling prod back from v1.0.0 to v1.1.0")


async def test_a_rollback_marks_the_replaced_version_bad_in_every_lane(cli: CliStack) -> None:
    await _live_everywhere(cli, "v1.0.0")
    await _live_everywhere(cli, "v1.1.0")

    rolled = await cli.run("rollback", cli.service, "--env", "prod", "--reason", "error budget")
    assert rolled.code == 0, rolled.err
    assert "v1.1.0 will be marked bad" in rolled.out
    await cli.wait_for(held("prod", "rollback", "v1.0.0"), "prod never rolled back")
    # staging is told (on_bad_elsewhere: rollback by default) and returns to v1.0.0 by itself, unheld.
    lanes = await cli.wait_for(live("staging", "v1.0.0"), "staging never followed prod's bad mark")
    assert lanes["staging"]["lane"]["hold"] is None
    assert lanes["staging"]["lane"]["recent"][-1]["kind"] == "bad_elsewhere"


async def test_promote_into_a_manual_lane(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with cli_stack(temporal_env, tmp_path, prod={"promote": "manual"}) as cli:
        first = await cli.run("promote", cli.service, "staging", "--reason", "x")
        nothing = await cli.run("promote", cli.service, "prod", "--reason", "x")
        assert (await cli.run("deploy", cli.service, "v1.0.0")).code == 0
        lanes = await cli.wait_for(live("staging", "v1.0.0"), "v1.0.0 never went live in staging")
        shown = await cli.run("status", cli.service)
        promoted = await cli.run("promote", cli.service, "prod", "--reason", "release train", "--json")
        after = await cli.wait_for(awaiting("prod"), "the promotion never reached prod")
        pinned = await cli.run("deploy", cli.service, "v0.9.0", "--env", "prod", "--reason", "hold prod")
        held_lane = await cli.run("promote", cli.service, "prod", "v1.0.0", "--reason", "again")

    assert first.code == 2
    assert first.err.strip() == (
        f"rollwright: error: staging is {cli.service}'s first lane: it takes pushes, nothing is promoted into it "
        f"(`rollwright deploy {cli.service} VERSION` queues one)"
    )
    assert nothing.code == 1
    assert nothing.err.strip() == "rollwright: nothing is live in staging to promote into prod; name a VERSION"
    # A manual lane is never offered anything: it does not run until the promotion starts it.
    assert lanes["prod"]["started"] is False
    assert lanes["prod"]["promotion_due"]["manual"] is True
    assert f"promotion: manual from staging (`rollwright promote {cli.service} prod`)" in shown.out
    assert promoted.code == 0, promoted.err
    assert promoted.json()["message"] == "promoting v1.0.0 into prod: it is screened and queued like a push"
    assert after["prod"]["deployment"]["digest"] == digest_of("v1.0.0")
    # The lane's validator refuses through update-with-start too, in one line.
    assert pinned.code == 0, pinned.err
    assert held_lane.code == 1
    assert held_lane.err.strip() == (
        f"rollwright: promote rejected by lane-{cli.service}-prod: prod is held (pin by alice: hold prod): "
        "`rollwright release` it first"
    )


async def test_status_shows_the_promotion_due_into_a_lane(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with cli_stack(temporal_env, tmp_path, prod={"promote": {"from": "staging", "after": "30m"}}) as cli:
        assert (await cli.run("deploy", cli.service, "v1.0.0")).code == 0
        lanes = await cli.wait_for(live("staging", "v1.0.0"), "v1.0.0 never went live in staging")
        shown = await cli.run("status", cli.service)

    due = lanes["prod"]["promotion_due"]
    assert (due["source"], due["tag"], due["digest"]) == ("staging", "v1.0.0", digest_of("v1.0.0"))
    since = datetime.fromisoformat(lanes["staging"]["lane"]["live"]["since"])
    assert datetime.fromisoformat(due["due_at"]) == since + timedelta(minutes=30)
    assert lanes["prod"]["started"] is False
    at = since + timedelta(minutes=30)
    assert (
        f"promotion: v1.0.0 ({digest_of('v1.0.0')[:19]}) from staging due {at:%Y-%m-%d %H:%M:%S}Z (in 29m)" in shown.out
    )
    assert "offers v1.0.0 to prod" in shown.out


async def test_a_rollback_of_every_lane_lists_the_lane_that_refused(cli: CliStack) -> None:
    await _live_everywhere(cli, "v1.0.0")
    assert (await cli.run("deploy", cli.service, "v1.1.0")).code == 0
    await cli.wait_for(awaiting("prod"), "v1.1.0 never reached the prod approval")

    rolled = await cli.run("rollback", cli.service, "--keep-good", "--reason", "staging looks off")

    assert rolled.code == 1
    [prod, staging] = rolled.out.strip().splitlines()
    assert prod.startswith(f"prod: rollback rejected by lane-{cli.service}-prod: v1.1.0 is deploying in prod")
    assert prod.endswith("abort it first, which rolls back what it changed")
    assert staging.startswith("staging: rolling staging back from v1.1.0 to v1.0.0")
    assert rolled.err.strip() == "rollwright: rollback refused in prod (see above)"
    await cli.wait_for(held("staging", "rollback", "v1.0.0"), "staging never rolled back")
