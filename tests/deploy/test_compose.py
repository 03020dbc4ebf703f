"""docker-compose.yml describes a host that can actually start: every Rollwright service's command exists
and parses, the config it mounts loads, every secret that config names reaches the service that reads it,
Temporal gets Rollwright's search attributes, the registry's rendered config carries the webhook token, and
every variable is documented in the README.

No Docker engine is needed: the compose scripts run with the real `sh`, `temporal` CLI and `docker-registry`."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

import worker
from devstack.images import push_image
from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from devstack.registry import registry_binary
from devstack.temporal import dev_server_path
from rollwright.cli.main import build_parser as cli_parser
from rollwright.config import RollwrightConfig, load_config
from rollwright.domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from rollwright.secrets import SecretRef
from rollwright.webhooks.auth import TOKEN_HEADER

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ROLLWRIGHT_SERVICES = {name: spec for name, spec in SERVICES.items() if name.startswith("rollwright-")}
PARSERS: dict[str, argparse.ArgumentParser] = {"worker.py": worker.build_parser(), "starter.py": cli_parser()}
SAMPLE_CONFIG = load_config(ROOT / "deploy" / "rollwright.yaml")
# Config sections whose secrets each service reads: the light worker's activities, the Pulumi runner, the receiver.
SECRET_SECTIONS = {
    "rollwright-worker": {"temporal", "argocd", "registry", "version_store", "notify"},
    "rollwright-pulumi-worker": {"temporal", "pulumi"},
    "rollwright-webhook": {"temporal", "webhooks"},
}
REGISTRY_TEMPLATE = "/etc/rollwright/registry.yml.tpl"
REGISTRY_CONFIG = "/etc/docker/registry/config.yml"


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of a service's bind mounts."""
    return {m.split(":")[1]: m.split(":")[0] for m in service.get("volumes", [])}


def _script(service: dict[str, Any]) -> str:
    """The shell script a `sh -c` service runs, after compose's `$$` -> `$` unescaping."""
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    (raw,) = service["command"]
    assert "$" not in raw.replace("$$", ""), "a single $ in a compose script is interpolated by compose, not sh"
    return str(raw).replace("$$", "$")


def _secret_envs(node: object, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, env var) for every env-var secret in a loaded config, defaults included."""
    if isinstance(node, SecretRef):
        if node.env is not None:
            yield path, node.env
    elif isinstance(node, BaseModel):
        for field in type(node).model_fields:
            yield from _secret_envs(getattr(node, field), f"{path}.{field}" if path else field)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _secret_envs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _secret_envs(item, f"{path}[{index}]")


def test_compose_runs_worker_pulumi_worker_and_webhook() -> None:
    commands = {name: spec["command"] for name, spec in ROLLWRIGHT_SERVICES.items()}
    assert set(commands) == set(SECRET_SECTIONS)
    assert "--pulumi" in commands["rollwright-pulumi-worker"]
    assert "webhook" in commands["rollwright-webhook"]


@pytest.mark.parametrize("name", sorted(ROLLWRIGHT_SERVICES))
def test_service_command_exists_and_parses(name: str) -> None:
    command: list[str] = ROLLWRIGHT_SERVICES[name]["command"]
    assert command[0] == "python"
    script = command[1]
    assert (ROOT / script).is_file(), f"{name} runs {script}, which is not in the repository"
    args = PARSERS[script].parse_args(command[2:])
    # The compose file mounts deploy/ at /etc/rollwright; check the very file the service will read.
    host_file = Path(_mounts(ROLLWRIGHT_SERVICES[name])[str(args.config)])
    assert load_config(ROOT / host_file) == SAMPLE_CONFIG


@pytest.mark.parametrize("name", sorted(ROLLWRIGHT_SERVICES))
def test_every_secret_the_service_reads_is_required_in_its_environment(name: str) -> None:
    environment: dict[str, str] = ROLLWRIGHT_SERVICES[name].get("environment", {})
    for path, env in _secret_envs(SAMPLE_CONFIG, ""):
        if path.split(".")[0] not in SECRET_SECTIONS[name]:
            continue
        assert env in environment, f"{name} reads {path} from ${env}, which compose does not pass"
        # `${X:-}` or a bare `${X}` would start the service with an empty secret, which it refuses.
        assert re.fullmatch(rf"\$\{{{env}:\?[^}}]+\}}", environment[env]), f"{name}: make {env} required (:?)"


def test_every_secret_in_the_sample_config_has_a_service_that_reads_it() -> None:
    sections = {path.split(".")[0] for path, _ in _secret_envs(SAMPLE_CONFIG, "")}
    assert sections, "the sample config names no secret at all?"
    assert sections <= set().union(*SECRET_SECTIONS.values())
    assert set().union(*SECRET_SECTIONS.values()) <= set(RollwrightConfig.model_fields)


def test_rollwright_services_start_after_the_search_attributes_exist() -> None:
    for name, spec in ROLLWRIGHT_SERVICES.items():
        assert spec["depends_on"]["temporal-setup"] == {"condition": "service_completed_successfully"}, name
    setup = SERVICES["temporal-setup"]
    assert setup.get("restart", "no") == "no", "a one-shot job must not restart, or it never completes"
    assert setup["environment"]["TEMPORAL_ADDRESS"] == SAMPLE_CONFIG.temporal.address
    assert setup["environment"]["NAMESPACE"] == SAMPLE_CONFIG.temporal.namespace


def test_setup_creates_exactly_rollwrights_keyword_attributes() -> None:
    names = SERVICES["temporal-setup"]["environment"]["SEARCH_ATTRIBUTES"].split()
    assert sorted(names) == sorted(key.name for key in SEARCH_ATTRIBUTES)
    assert {key.indexed_value_type for key in SEARCH_ATTRIBUTES} == {SearchAttributeIndexedValueType.KEYWORD}
    assert "--type Keyword" in _script(SERVICES["temporal-setup"])


@pytest.fixture
async def bare_temporal() -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    """A dev server without Rollwright's search attributes, as auto-setup leaves a fresh cluster."""
    port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(), port=port, dev_server_log_level="error"
    )
    try:
        yield env, port
    finally:
        await env.shutdown()


def _run_setup(port: int) -> subprocess.CompletedProcess[str]:
    setup = SERVICES["temporal-setup"]
    environment = {
        **setup["environment"],
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        # The venv's `temporal` is the same CLI the admin-tools image ships.
        "PATH": f"{Path(dev_server_path()).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["/bin/sh", "-c", _script(setup)], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


async def test_setup_script_registers_the_attributes_and_runs_again_harmlessly(
    bare_temporal: tuple[WorkflowEnvironment, int],
) -> None:
    env, port = bare_temporal
    first = await asyncio.to_thread(_run_setup, port)
    assert first.returncode == 0, first.stderr
    again = await asyncio.to_thread(_run_setup, port)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already exists") == len(SEARCH_ATTRIBUTES)
    listed = await env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=SAMPLE_CONFIG.temporal.namespace)
    )
    for key in SEARCH_ATTRIBUTES:
        assert listed.custom_attributes.get(key.name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, key.name


def _registry_script(tmp_path: Path, binary: str) -> str:
    """The registry service's script with its container paths mapped into tmp_path."""
    registry = SERVICES["registry"]
    assert _mounts(registry)[REGISTRY_TEMPLATE] == "./deploy/registry.yml"
    script = _script(registry)
    assert f"exec registry serve {REGISTRY_CONFIG}" in script
    return (
        script.replace(REGISTRY_TEMPLATE, str(tmp_path / "registry.yml.tpl"))
        .replace(REGISTRY_CONFIG, str(tmp_path / "config.yml"))
        .replace("exec registry serve", f"exec {binary} serve")
    )


def _render(tmp_path: Path, token: str) -> subprocess.CompletedProcess[str]:
    script = _registry_script(tmp_path, "true")  # stop after rendering
    (tmp_path / "registry.yml.tpl").write_text((ROOT / "deploy" / "registry.yml").read_text())
    environment = {"PATH": os.environ["PATH"], "ROLLWRIGHT_REGISTRY_WEBHOOK_TOKEN": token}
    return subprocess.run(["/bin/sh", "-c", script], env=environment, capture_output=True, text=True, check=False)


def test_registry_template_renders_the_token_header_for_the_webhook(tmp_path: Path) -> None:
    assert "ROLLWRIGHT_REGISTRY_WEBHOOK_TOKEN" in SERVICES["registry"]["environment"]
    token = "Zm9v-bar_0.9~x+/="
    rendered = _render(tmp_path, token)
    assert rendered.returncode == 0, rendered.stderr
    config = yaml.safe_load((tmp_path / "config.yml").read_text())
    (endpoint,) = config["notifications"]["endpoints"]
    headers = {name.lower(): value for name, value in endpoint["headers"].items()}
    assert headers == {TOKEN_HEADER: [token]}
    # It notifies the webhook service, on the port and path the receiver serves for Distribution.
    listen = ROLLWRIGHT_SERVICES["rollwright-webhook"]["command"][-1]
    assert endpoint["url"] == f"http://rollwright-webhook:{listen.rsplit(':', 1)[1]}/webhooks/distribution"
    assert SAMPLE_CONFIG.webhooks.sources["distribution"].token == SecretRef(env="ROLLWRIGHT_REGISTRY_WEBHOOK_TOKEN")


@pytest.mark.parametrize("token", ["", "a&b", 'quote"d', "new\nline", "pipe|x"])
def test_registry_refuses_a_token_it_cannot_render_safely(tmp_path: Path, token: str) -> None:
    rendered = _render(tmp_path, token)
    assert rendered.returncode == 1
    assert "ROLLWRIGHT_REGISTRY_WEBHOOK_TOKEN" in rendered.stderr
    assert not (tmp_path / "config.yml").exists()


async def test_real_registry_sends_the_token_with_its_notifications(tmp_path: Path) -> None:
    deliveries: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()

    async def receive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if line)}
        await reader.readexactly(int(headers.get("content-length", "0")))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        await deliveries.put((head[0].split()[1], headers))

    listener = await asyncio.start_server(receive, "127.0.0.1", 0)
    listen_port = listener.sockets[0].getsockname()[1]
    template = (ROOT / "deploy" / "registry.yml").read_text()
    # Only the host changes: the compose network's name is not resolvable here.
    (tmp_path / "registry.yml.tpl").write_text(template.replace("rollwright-webhook:8080", f"127.0.0.1:{listen_port}"))
    port, token = free_port(), "s3cret-token"
    environment = {
        "PATH": os.environ["PATH"],
        "ROLLWRIGHT_REGISTRY_WEBHOOK_TOKEN": token,
        "REGISTRY_HTTP_ADDR": f"127.0.0.1:{port}",
        "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": str(tmp_path / "storage"),
    }
    url = f"http://127.0.0.1:{port}"
    async with (
        listener,
        managed_process(
            "registry (compose script)",
            ["/bin/sh", "-c", _registry_script(tmp_path, registry_binary())],
            log_file=tmp_path / "registry.log",
            probe=http_probe(f"{url}/v2/", timeout=20),
            env=environment,
        ),
    ):
        await push_image(url, "shop/checkout-api", "v1.0.0", seed="compose")
        path, headers = await asyncio.wait_for(deliveries.get(), timeout=20)
    assert path == "/webhooks/distribution"
    assert headers[TOKEN_HEADER] == token


def _production_section(readme: str) -> str:
    return readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]


def _referenced_variables(node: Any) -> set[str]:
    text = yaml.safe_dump(node)
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def test_every_referenced_variable_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    variables = _referenced_variables(COMPOSE)
    assert variables, "compose references no variables at all?"
    undocumented = sorted(v for v in variables if f"`{v}`" not in readme)
    assert not undocumented, f"not documented in README.md: {undocumented}"


def test_readme_table_lists_only_variables_compose_uses() -> None:
    table = re.findall(r"^\| `([A-Z0-9_]+)` \|", _production_section((ROOT / "README.md").read_text()), re.M)
    assert table, "README 'Running in production' has no variable table?"
    assert sorted(set(table) - _referenced_variables(COMPOSE)) == []
