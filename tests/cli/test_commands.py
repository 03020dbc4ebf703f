"""The other commands, exit codes and the one-line failure promise."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from devstack.ports import free_port
from rollwright.domain.lane import lane_workflow_id
from rollwright.versionstore import VersionStore
from tests.cli.conftest import CliStack
from tests.cli.doubles import digest_of
from tests.webhooks.conftest import enqueued_events

ROOT = Path(__file__).resolve().parents[2]
BAD = "sha256:" + "ba" * 32


async def test_versions_and_unblock_use_the_version_store(cli: CliStack) -> None:
    with VersionStore(cli.version_store_url) as store:
        store.record_version(service=cli.service, tag="v0.9.0", digest=BAD, image="registry.local:5000/shop/x")
        store.mark_bad(service=cli.service, digest=BAD, reason="canary failed", actor="rollwright")

    listed = await cli.run("versions", cli.service)
    assert listed.code == 0, listed.err
    assert "v0.9.0" in listed.out
    assert "bad" in listed.out

    cleared = await cli.run("unblock", cli.service, BAD, "--reason", "fixed upstream")
    assert cleared.code == 0, cleared.err
    assert "cleared the bad mark" in cleared.out
    assert "marked by rollwright: canary failed" in cleared.out
    with VersionStore(cli.version_store_url) as store:
        assert store.bad_mark(cli.service, BAD) is None
        [audit_clear] = [a for a in store.audit(cli.service, BAD) if a.action.value == "clear_bad"]
        assert (audit_clear.actor, audit_clear.reason) == ("alice", "fixed upstream")

    again = await cli.run("unblock", cli.service, BAD, "--reason", "again")
    assert again.code == 1
    assert "is not marked bad" in again.err

    as_json = await cli.run("versions", cli.service, "--json")
    assert as_json.json()["versions"][0]["state"] != "bad"


async def test_deploy_by_digest_uses_the_recorded_tag(cli: CliStack) -> None:
    digest = digest_of("v3.1.0")
    with VersionStore(cli.version_store_url) as store:
        store.record_version(service=cli.service, tag="v3.1.0", digest=digest, image="registry.local:5000/shop/x")

    result = await cli.run("deploy", cli.service, digest, "--json")

    assert result.code == 0, result.err
    assert result.json()["tag"] == "v3.1.0"
    [event] = await enqueued_events(cli.env.client, lane_workflow_id(cli.service, "staging"))
    assert (event.tag, event.digest_hint, event.source.source, event.source.actor) == ("v3.1.0", digest, "cli", "alice")

    unknown = await cli.run("deploy", cli.service, "sha256:" + "00" * 32)
    assert unknown.code == 2
    assert "no version of" in unknown.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy", "no-such-service", "v1.0.0"], "unknown service 'no-such-service'"),
        (["deploy", "{service}", "not a tag!"], "is neither a tag nor a sha256 digest"),
        (["unblock", "{service}", "sha256:short", "--reason", "x"], "is not a sha256 digest"),
        (["pause", "{service}"], "the following arguments are required: --reason"),
        (["launch", "{service}"], "invalid choice: 'launch'"),
        (["history", "{service}", "--limit", "many"], "invalid int value: 'many'"),
        (
            ["deploy", "{service}", "v1.0.0", "--env", "prod"],
            "to pin {service} on v1.0.0 in prod: rollwright deploy {service} v1.0.0 --env prod --reason TEXT",
        ),
        (
            ["deploy", "{service}", "v1.0.0", "--reason", "older"],
            "to pin {service} on v1.0.0 in staging: rollwright deploy {service} v1.0.0 --env staging --reason TEXT",
        ),
        (["deploy", "{service}", "v1.0.0", "--env", "qa", "--reason", "x"], "has no environment 'qa'"),
        (["rollback", "{service}"], "the following arguments are required: --reason"),
        (["rollback", "{service}", "--env", "qa", "--reason", "x"], "has no environment 'qa'"),
        (["rollback", "{service}", "--to", "not a tag!", "--reason", "x"], "is neither a tag nor a sha256 digest"),
        (["rollback", "{service}", "--reason", "  "], "--reason must say why"),
        (["release", "{service}", "--env", "qa", "--reason", "x"], "has no environment 'qa'"),
        (["promote", "{service}", "staging", "--reason", "x"], "staging is {service}'s first lane"),
        (["promote", "{service}", "qa", "--reason", "x"], "has no environment 'qa'"),
        (["promote", "{service}", "prod", "sha256:short", "--reason", "x"], "is not a sha256 digest"),
        (["pause", "{service}", "--reason", "x", "--environment", "qa"], "has no environment 'qa'"),
        (["pause", "{service}", "--reason", "x" * 2001], "reason: String should have at most 2000 characters"),
    ],
)
async def test_bad_arguments_exit_2_with_one_line(cli: CliStack, argv: list[str], message: str) -> None:
    result = await cli.run(*[arg.format(service=cli.service) for arg in argv])

    assert result.code == 2
    assert message.format(service=cli.service) in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


async def test_a_bad_config_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "rollwright.yaml"
    bad.write_text(yaml.safe_dump({"services": [], "gitops": {"repo": "x"}}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rollwright.cli", "--config", str(bad), "status",
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()

    assert process.returncode == 2
    assert err.decode().strip().startswith(f"rollwright: error: {bad}: services:")
    assert len(err.decode().strip().splitlines()) == 1


async def test_an_unreachable_temporal_exits_1_in_one_line(cli: CliStack, tmp_path: Path) -> None:
    config = yaml.safe_load(cli.config_path.read_text())
    config["temporal"]["address"] = f"127.0.0.1:{free_port()}"
    path = tmp_path / "unreachable.yaml"
    path.write_text(yaml.safe_dump(config))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "starter.py", "--config", str(path), "status", cli.service,
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()

    assert process.returncode == 1
    assert err.decode().strip().startswith("rollwright: cannot reach Temporal at 127.0.0.1:")
    assert len(err.decode().strip().splitlines()) == 1


async def test_starter_serves_the_webhook_and_feeds_the_first_lane(
    cli: CliStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    config = yaml.safe_load(cli.config_path.read_text())
    config["webhooks"] = {"listen": f"127.0.0.1:{port}", "sources": {"generic": {"token": {"env": "RW_CLI_TOKEN"}}}}
    path = tmp_path / "webhook.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "ROLLWRIGHT_CONFIG": str(path), "RW_CLI_TOKEN": "cli-test-token-123"}
    process = subprocess.Popen(
        [sys.executable, "starter.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async with asyncio.timeout(20):
                while True:
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            assert (await http.get("/readyz")).json() == {"status": "ready", "temporal": "reachable"}
            assert (await http.get("/openapi.json")).json()["info"]["title"] == "Rollwright webhook receiver"
            body = {"repository": f"registry.local:5000/shop/{cli.service}", "tag": "v5.0.0"}
            response = await http.post(
                "/webhooks/generic", json=body, headers={"authorization": "Bearer cli-test-token-123"}
            )
        assert response.status_code == 202, response.text
        assert response.json()["workflow_ids"] == [lane_workflow_id(cli.service, "staging")]
        events = await enqueued_events(cli.env.client, lane_workflow_id(cli.service, "staging"))
        assert [event.tag for event in events] == ["v5.0.0"]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    assert b"cli-test-token-123" not in err


async def test_status_of_every_service_before_any_push(cli: CliStack) -> None:
    result = await cli.run("status")

    assert result.code == 0, result.err
    assert result.out.strip().splitlines() == [
        cli.service,
        f"  staging ({lane_workflow_id(cli.service, 'staging')})",
        "    not started: nothing was ever deployed here",
        f"  prod ({lane_workflow_id(cli.service, 'prod')})",
        "    not started: nothing was ever deployed here",
        "    promotion: from staging, nothing due",
    ]


async def test_deploy_queues_while_no_worker_answers_and_says_it_did_not_compare(cli: CliStack, tmp_path: Path) -> None:
    config = yaml.safe_load(cli.config_path.read_text())
    config["temporal"]["task_queue"] = f"{config['temporal']['task_queue']}-nobody"
    path = tmp_path / "no-workers.yaml"
    path.write_text(yaml.safe_dump(config))

    first = await cli.run("--config", str(path), "deploy", cli.service, "v1.0.0")
    second = await cli.run("--config", str(path), "deploy", cli.service, "v1.1.0", "--json")

    assert first.code == 0, first.err
    assert second.code == 0, second.err
    # The timeout's own words are the SDK's or the server's, whichever gives up first.
    note = second.json()["note"]
    assert note.startswith(f"not compared with what is live (cannot read lane-{cli.service}-staging: ")
    assert note.endswith("); staging applies the same rule")
    events = await enqueued_events(cli.env.client, lane_workflow_id(cli.service, "staging"))
    assert [event.tag for event in events] == ["v1.0.0", "v1.1.0"]
