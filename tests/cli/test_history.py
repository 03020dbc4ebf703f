"""`rollwright history` shows the deliberate acts on a service's lanes beside its deployments, as text and JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rollwright.domain.lane import LaneActionKind
from rollwright.versionstore import VersionStore
from tests.cli.conftest import CliStack

D1 = "sha256:" + "1a" * 32
AT = datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC)


async def test_history_shows_lane_actions_newest_first(cli: CliStack) -> None:
    prod = f"lane-{cli.service}-prod"
    with VersionStore(cli.version_store_url) as store:
        store.record_lane_action(
            service=cli.service,
            environment="prod",
            action=LaneActionKind.ROLLBACK,
            actor="alice",
            reason="checkout errors after v1.1.0",
            at=AT,
            workflow_id=prod,
            tag="v1.0.0",
            digest=D1,
            verified=True,
        )
        store.record_lane_action(
            service=cli.service,
            environment="prod",
            action=LaneActionKind.RELEASE,
            actor="bob",
            reason="fix verified in staging",
            at=AT + timedelta(hours=2),
            workflow_id=prod,
        )
        store.record_lane_action(
            service="another-service",
            environment="prod",
            action=LaneActionKind.PIN,
            actor="carol",
            reason="not this service's",
            at=AT,
            workflow_id="lane-another-service-prod",
        )

    as_json = await cli.run("history", cli.service, "--json")
    assert as_json.code == 0, as_json.err
    listed = as_json.json()
    assert listed["deployments"] == []
    assert [
        (a["environment"], a["action"], a["actor"], a["verified"], a["reason"], a["tag"], a["workflow_id"])
        for a in listed["lane_actions"]
    ] == [
        ("prod", "release", "bob", False, "fix verified in staging", None, prod),
        ("prod", "rollback", "alice", True, "checkout errors after v1.1.0", "v1.0.0", prod),
    ]
    assert datetime.fromisoformat(listed["lane_actions"][1]["at"]) == AT

    text = await cli.run("history", cli.service)
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == f"no deployments of {cli.service} yet"
    header = lines.index("lane actions:") + 1
    assert lines[header].split() == ["AT", "ENV", "ACTION", "ACTOR", "REASON", "VERSION", "WORKFLOW"]
    release, rollback = lines[header + 1], lines[header + 2]
    # An actor the control API attested stands alone; a name given straight to Temporal is marked.
    assert release.startswith("2026-03-01 11:30:05Z  prod  release   bob (unverified)")
    assert release.split()[-2:] == ["-", prod]
    assert "fix verified in staging" in release
    assert rollback.startswith("2026-03-01 09:30:05Z  prod  rollback  alice ")
    assert "(unverified)" not in rollback
    assert f"v1.0.0 ({D1[:19]})" in rollback
    assert "checkout errors after v1.1.0" in rollback
    assert "carol" not in text.out

    limited = await cli.run("history", cli.service, "--limit", "1", "--json")
    assert [a["action"] for a in limited.json()["lane_actions"]] == ["release"]
