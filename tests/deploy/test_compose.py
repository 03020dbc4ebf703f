"""docker-compose.yml describes a host that can actually start: Temporal's current server image on a schema
a one-shot job set up first, every Rollwright service running an entry point the wheel installs with arguments
that parse, the config it mounts loads, every secret that config names reaches the service that reads it,
Temporal gets its namespace and Rollwright's search attributes, the registry's rendered config carries the
webhook token, and every variable is documented in the README.

No Docker engine is needed: the compose scripts run with the real `sh`, `temporal` CLI and `docker-registry`
(the schema job's `temporal-sql-tool` ships only in Temporal's admin-tools image, so its script is checked,
not run)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tomllib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

import worker
from devstack.images import push_image
from devstack.ports import free_port
from devstack.process import http_probe, managed_process
from devstack.registry import registry_binary
from devstack.temporal import CLI_TYPE_NAMES, dev_server_path
from rollwright.cli.main import build_parser as cli_parser
from rollwright.config import RollwrightConfig, load_config
from rollwright.connections.temporal import ConnectOptions, resolve_connect_options
from rollwright.domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from rollwright.secrets import SecretRef
from rollwright.webhooks.auth import TOKEN_HEADER

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ROLLWRIGHT_SERVICES = {name: spec for name, spec in SERVICES.items() if name.startswith("rollwright-")}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# What the image can run: the wheel's console scripts and its top-level modules (`python -m worker`).
ENTRY_POINTS: dict[tuple[str, ...], argparse.ArgumentParser] = {
    ("rollwright",): cli_parser(),
    ("python", "-m", "worker"): worker.build_parser(),
}
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


def _entry_point(command: list[str]) -> tuple[str, ...]:
    for entry in ENTRY_POINTS:
        if tuple(command[: len(entry)]) == entry:
            return entry
    raise AssertionError(f"{command} runs none of the installed entry points {sorted(ENTRY_POINTS)}")


def test_the_entry_points_are_the_ones_the_wheel_installs() -> None:
    assert ("rollwright",) in ENTRY_POINTS
    assert "rollwright" in PYPROJECT["project"]["scripts"]
    modules = {entry[2] for entry in ENTRY_POINTS if entry[:2] == ("python", "-m")}
    assert modules <= set(PYPROJECT["tool"]["setuptools"]["py-modules"])


@pytest.mark.parametrize("name", sorted(ROLLWRIGHT_SERVICES))
def test_service_runs_an_installed_entry_point_whose_arguments_parse(name: str) -> None:
    service = ROLLWRIGHT_SERVICES[name]
    assert service["build"] == ".", f"{name} must run the image the Dockerfile builds"
    command: list[str] = service["command"]
    # A path like worker.py would be the source copy, which the image does not contain.
    assert not any(part.endswith(".py") for part in command), command
    entry = _entry_point(command)
    args = ENTRY_POINTS[entry].parse_args(command[len(entry) :])
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


def _connects_to(name: str, monkeypatch: pytest.MonkeyPatch, home: Path) -> ConnectOptions:
    """Where a Rollwright service connects inside its container: its compose environment, no Temporal TOML file."""
    for variable in list(os.environ):
        if variable.startswith("TEMPORAL_"):
            monkeypatch.delenv(variable)
    for variable, value in ROLLWRIGHT_SERVICES[name].get("environment", {}).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("HOME", str(home))
    return resolve_connect_options(SAMPLE_CONFIG.temporal)


@pytest.mark.parametrize("name", sorted(ROLLWRIGHT_SERVICES))
def test_service_starts_after_setup_prepared_the_namespace_it_connects_to(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert ROLLWRIGHT_SERVICES[name]["depends_on"]["temporal-setup"] == {"condition": "service_completed_successfully"}
    setup = SERVICES["temporal-setup"]
    options = _connects_to(name, monkeypatch, tmp_path)
    assert setup["environment"]["TEMPORAL_ADDRESS"] == options.target_host
    assert setup["environment"]["NAMESPACE"] == options.namespace


def _image(service: str) -> tuple[str, str]:
    name, tag = str(SERVICES[service]["image"]).rsplit(":", 1)
    return name, tag


def test_temporal_is_the_current_server_image_not_auto_setup() -> None:
    assert _image("temporal")[0] == "temporalio/server"
    assert not [name for name, spec in SERVICES.items() if "auto-setup" in spec.get("image", "")]
    # The schema files and the CLI the jobs use come with the same release as the server.
    for job in ("temporal-schema", "temporal-setup"):
        assert _image(job) == ("temporalio/admin-tools", _image("temporal")[1]), job


def test_one_shot_jobs_run_in_order_postgres_schema_server_setup() -> None:
    assert "healthcheck" in SERVICES["postgresql"]
    assert SERVICES["temporal-schema"]["depends_on"] == {"postgresql": {"condition": "service_healthy"}}
    assert SERVICES["temporal"]["depends_on"] == {"temporal-schema": {"condition": "service_completed_successfully"}}
    assert SERVICES["temporal-setup"]["depends_on"] == ["temporal"]
    for job in ("temporal-schema", "temporal-setup"):
        assert SERVICES[job].get("restart", "no") == "no", f"{job}: a one-shot job that restarts never completes"


def test_schema_job_prepares_the_databases_the_server_uses() -> None:
    job, server = SERVICES["temporal-schema"]["environment"], SERVICES["temporal"]["environment"]
    # temporal-sql-tool reads its connection from SQL_*; the server reads the same facts under its own names.
    assert (job["SQL_PLUGIN"], job["SQL_HOST"], job["SQL_PORT"], job["SQL_USER"], job["SQL_PASSWORD"]) == (
        server["DB"],
        server["POSTGRES_SEEDS"],
        server["DB_PORT"],
        server["POSTGRES_USER"],
        server["POSTGRES_PWD"],
    )
    assert (job["DBNAME"], job["VISIBILITY_DBNAME"]) == (server["DBNAME"], server["VISIBILITY_DBNAME"])
    assert server["POSTGRES_SEEDS"] == "postgresql"
    assert SERVICES["postgresql"]["environment"]["POSTGRES_USER"] == server["POSTGRES_USER"]
    assert job["SCHEMA_DIR"] == f"/etc/temporal/schema/postgresql/v{server['DB'].removeprefix('postgres')}"


def test_schema_script_sets_up_and_updates_both_databases() -> None:
    script = _script(SERVICES["temporal-schema"])
    parsed = subprocess.run(["/bin/sh", "-n", "-c", script], capture_output=True, text=True, check=False)
    assert parsed.returncode == 0, parsed.stderr
    assert 'temporal-sql-tool --db "$1" setup-schema -v 0.0' in script
    assert 'temporal-sql-tool --db "$1" update-schema -d "$2"' in script
    assert 'prepare "$DBNAME" "$SCHEMA_DIR/temporal/versioned"' in script
    assert 'prepare "$VISIBILITY_DBNAME" "$SCHEMA_DIR/visibility/versioned"' in script
    assert "SQL_PASSWORD" not in script, "the password stays in the environment, off the command line"


def test_server_gets_the_dynamic_config_file_it_requires() -> None:
    server = SERVICES["temporal"]
    host_file = _mounts(server)[server["environment"]["DYNAMIC_CONFIG_FILE_PATH"]]
    assert isinstance(yaml.safe_load((ROOT / host_file).read_text()), dict)


def test_setup_creates_exactly_rollwrights_attributes_with_their_types() -> None:
    entries = SERVICES["temporal-setup"]["environment"]["SEARCH_ATTRIBUTES"].split()
    declared = {key.name: CLI_TYPE_NAMES[key.indexed_value_type] for key in SEARCH_ATTRIBUTES}
    assert dict(entry.split("=", 1) for entry in entries) == declared
    assert len(entries) == len(declared)


@pytest.fixture
async def bare_temporal() -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    """A dev server without Rollwright's search attributes or namespace, as the server image leaves a new cluster."""
    port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(), port=port, dev_server_log_level="error"
    )
    try:
        yield env, port
    finally:
        await env.shutdown()


def _run_setup(port: int, namespace: str) -> subprocess.CompletedProcess[str]:
    setup = SERVICES["temporal-setup"]
    environment = {
        **setup["environment"],
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        # The dev server always has `default`; another name is a namespace the script must create.
        "NAMESPACE": namespace,
        # The venv's `temporal` is the same CLI the admin-tools image ships.
        "PATH": f"{Path(dev_server_path()).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["/bin/sh", "-c", _script(setup)], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


async def test_setup_script_creates_the_namespace_registers_the_attributes_and_runs_again_harmlessly(
    bare_temporal: tuple[WorkflowEnvironment, int],
) -> None:
    env, port = bare_temporal
    namespace = "rollwright-fresh"
    first = await asyncio.to_thread(_run_setup, port, namespace)
    assert first.returncode == 0, first.stderr
    again = await asyncio.to_thread(_run_setup, port, namespace)
    assert again.returncode == 0, again.stderr
    assert f"namespace {namespace} exists" in again.stdout
    assert again.stdout.count("already exists") == len(SEARCH_ATTRIBUTES)

    described = await env.client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    retention = SERVICES["temporal-setup"]["environment"]["NAMESPACE_RETENTION"]
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(
        hours=int(retention.removesuffix("h"))
    )
    listed = await env.client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    for key in SEARCH_ATTRIBUTES:
        assert listed.custom_attributes.get(key.name) == IndexedValueType.ValueType(key.indexed_value_type), key.name


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
