"""The workers check the control API's attestations with the key `api.control_key` names, installed at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import worker
from rollwright.config import parse_config
from rollwright.domain.attestation import Operator, attest, attestation_problem, install_control_key
from rollwright.domain.deployment import ControlRequest
from rollwright.secrets import SecretUnavailableError

BASE = {
    "services": [
        {"name": "shop", "image": "registry.local:5000/shop/shop", "environments": [{"name": "s", "waves": [["a"]]}]}
    ],
    "gitops": {"repo": "file:///nonexistent/gitops.git"},
}
API = {"issuer": "https://login.example/realms/x", "audience": "rollwright", "jwks_url": "https://login.example/certs"}


@pytest.fixture(autouse=True)
def no_key_afterwards() -> Iterator[None]:
    yield
    install_control_key(None)


def test_the_worker_installs_the_configured_key_and_checks_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RW_TEST_WORKER_CONTROL_KEY", "k" * 40)
    config = parse_config({**BASE, "api": {**API, "control_key": {"env": "RW_TEST_WORKER_CONTROL_KEY"}}})
    request = ControlRequest(actor="ada", reason="ok")
    now = datetime.now(UTC)
    signed = attest(b"k" * 40, Operator(subject="ada"), "approve", "deploy-1", request, now)
    forged = attest(b"x" * 40, Operator(subject="ada"), "approve", "deploy-1", request, now)

    worker.install_key(config)

    assert attestation_problem(signed, "approve", "deploy-1", request, now) is None
    assert attestation_problem(forged, "approve", "deploy-1", request, now) is not None


def test_without_a_key_nothing_counts_as_verified_and_a_missing_secret_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = ControlRequest(actor="ada", reason="ok")
    now = datetime.now(UTC)
    signed = attest(b"k" * 40, Operator(subject="ada"), "approve", "deploy-1", request, now)
    worker.install_key(parse_config(BASE))
    assert attestation_problem(signed, "approve", "deploy-1", request, now) == (
        "this worker has no control key (api.control_key), so it cannot check a verified request"
    )
    monkeypatch.delenv("RW_TEST_WORKER_MISSING_KEY", raising=False)
    missing = parse_config({**BASE, "api": {**API, "control_key": {"env": "RW_TEST_WORKER_MISSING_KEY"}}})
    with pytest.raises(SecretUnavailableError, match="RW_TEST_WORKER_MISSING_KEY"):
        worker.install_key(missing)


def test_the_api_section_names_what_a_served_api_lacks() -> None:
    with pytest.raises(ValueError, match="needs issuer, audience and jwks_url together"):
        parse_config({**BASE, "api": {"issuer": API["issuer"]}})
    with pytest.raises(ValueError, match="needs control_key"):
        parse_config({**BASE, "api": API})
