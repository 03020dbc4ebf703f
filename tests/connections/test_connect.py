"""connect_temporal against the real dev server: through a profile chosen by TEMPORAL_* variables, with a client
certificate a real mTLS handshake checks, and, from the worker and the CLI, the one-line exit 2 of a bad file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from devstack.ports import free_port
from rollwright.config.models import TemporalConfig
from rollwright.connections.temporal import TemporalUnreachableError, connect_temporal
from tests.connections.conftest import Certificates, mtls_front, write

ROOT = Path(__file__).resolve().parents[2]


def dev_server_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


async def namespace_of_server(client: Client) -> str:
    """Ask the server itself, so a client that never reached it cannot pass."""
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    return described.namespace_info.name


async def test_connects_through_a_profile_the_variables_choose(
    temporal_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = dev_server_address(temporal_env)
    profiles = write(
        tmp_path / "temporal.toml",
        f"""
[profile.default]
address = "127.0.0.1:{free_port()}"

[profile.ci]
address = "{address}"
namespace = "{temporal_env.client.namespace}"
""",
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(profiles))
    monkeypatch.setenv("TEMPORAL_PROFILE", "ci")
    # The YAML names only the task queues, as a config shared by several clusters would.
    client = await connect_temporal(TemporalConfig(task_queue="rollwright"))
    assert client.service_client.config.target_host == address
    assert await namespace_of_server(client) == temporal_env.client.namespace


async def test_an_unreachable_server_names_the_address_from_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    with pytest.raises(TemporalUnreachableError, match=rf"^cannot reach Temporal at {address} \(namespace default\)"):
        await connect_temporal(TemporalConfig())


async def test_mtls_presents_the_client_certificate_in_a_real_handshake(
    temporal_env: WorkflowEnvironment, certificates: Certificates
) -> None:
    async with mtls_front(certificates, dev_server_address(temporal_env)) as front:
        tls: dict[str, Any] = {"server_name": "localhost", "server_ca_cert": str(certificates.ca)}
        config = TemporalConfig.model_validate(
            {
                "address": f"127.0.0.1:{front.port}",
                "namespace": temporal_env.client.namespace,
                "tls": {
                    **tls,
                    "client_cert": str(certificates.client_cert),
                    "client_key": {"file": str(certificates.client_key)},
                },
            }
        )
        client = await connect_temporal(config)
        assert await namespace_of_server(client) == temporal_env.client.namespace
        assert front.clients, "the client never completed a handshake with the mTLS front"
        assert set(front.clients) == {certificates.client_name}

        # Without the certificate the same front refuses the handshake: the one above really was mTLS.
        without = config.model_copy(update={"tls": TemporalConfig.model_validate({"tls": tls}).tls})
        with pytest.raises(TemporalUnreachableError, match=rf"^cannot reach Temporal at 127\.0\.0\.1:{front.port}"):
            await connect_temporal(without)


def config_file(tmp_path: Path, temporal: dict[str, Any]) -> Path:
    config = {
        "services": [
            {
                "name": "checkout-api",
                "image": "127.0.0.1:5000/shop/checkout-api",
                "environments": [{"name": "staging", "waves": [["local-a"]]}],
            }
        ],
        "temporal": temporal,
        "gitops": {"repo": str(tmp_path / "gitops.git")},
        "version_store": {"url": f"sqlite:///{tmp_path / 'versions.db'}"},
        "pulumi": {"backend_url": f"file://{tmp_path / 'state'}", "work_root": str(tmp_path / "work")},
    }
    return write(tmp_path / "rollwright.yaml", yaml.safe_dump(config))


async def run(*argv: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.fixture
def missing_certificate(tmp_path: Path, certificates: Certificates) -> tuple[Path, Path]:
    """A config whose client certificate is not there, and the path it names."""
    missing = tmp_path / "nowhere" / "client.pem"
    tls = {"client_cert": str(missing), "client_key": {"file": str(certificates.client_key)}}
    return config_file(tmp_path, {"address": f"127.0.0.1:{free_port()}", "tls": tls}), missing


async def test_the_worker_exits_2_naming_an_unreadable_certificate(missing_certificate: tuple[Path, Path]) -> None:
    config, missing = missing_certificate
    code, stderr = await run(str(ROOT / "worker.py"), "--config", str(config))
    assert code == 2, stderr
    assert f"cannot read the client certificate {missing}" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("command", [["status"], ["webhook", "--listen", "127.0.0.1:8080"]])
async def test_the_cli_exits_2_naming_an_unreadable_certificate(
    missing_certificate: tuple[Path, Path], command: list[str]
) -> None:
    config, missing = missing_certificate
    code, stderr = await run(str(ROOT / "starter.py"), "--config", str(config), *command)
    assert code == 2, stderr
    assert stderr.strip() == (
        f"rollwright: error: temporal.tls.client_cert: cannot read the client certificate {missing}: "
        "No such file or directory"
    )
