"""mTLS towards Temporal: the client certificate and key (and the CA, and the server name) land in the TLSConfig
the client connects with, from the YAML or the profile; a file that cannot be used is named in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.service import TLSConfig

from rollwright.config.models import TemporalConfig
from rollwright.connections.temporal import TemporalSettingsError, resolve_connect_options
from tests.connections.conftest import Certificates, write


def tls_of(**yaml: Any) -> TLSConfig:
    tls = resolve_connect_options(TemporalConfig.model_validate(yaml)).tls
    assert isinstance(tls, TLSConfig), tls
    return tls


def test_yaml_mtls_loads_certificate_key_and_ca(certificates: Certificates) -> None:
    tls = tls_of(
        tls={
            "server_name": "temporal.internal",
            "server_ca_cert": str(certificates.ca),
            "client_cert": str(certificates.client_cert),
            "client_key": {"file": str(certificates.client_key)},
        }
    )
    assert tls.client_cert == certificates.client_cert.read_bytes()
    # A key read as a secret loses only surrounding whitespace.
    assert tls.client_private_key == certificates.client_key.read_bytes().strip()
    assert tls.server_root_ca_cert == certificates.ca.read_bytes()
    assert tls.domain == "temporal.internal"


def test_the_key_may_come_from_a_variable(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLWRIGHT_TEMPORAL_CLIENT_KEY", certificates.client_key.read_text())
    key = {"env": "ROLLWRIGHT_TEMPORAL_CLIENT_KEY"}
    tls = tls_of(tls={"client_cert": str(certificates.client_cert), "client_key": key})
    assert tls.client_private_key == certificates.client_key.read_bytes()


def test_profile_mtls_from_the_standard_variables(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(certificates.client_cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(certificates.client_key))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(certificates.ca))
    tls = tls_of()
    assert tls.client_cert == certificates.client_cert.read_bytes()
    assert tls.client_private_key == certificates.client_key.read_bytes()
    assert tls.server_root_ca_cert == certificates.ca.read_bytes()


def test_profile_mtls_from_the_toml_file(certificates: Certificates, tmp_path: Path) -> None:
    profile = write(
        tmp_path / "temporal.toml",
        f"""
[profile.default]
address = "temporal.internal:7233"
[profile.default.tls]
client_cert_path = "{certificates.client_cert}"
client_key_path = "{certificates.client_key}"
""",
    )
    tls = tls_of(config_file=str(profile))
    assert tls.client_cert == certificates.client_cert.read_bytes()
    assert tls.client_private_key == certificates.client_key.read_bytes()


def test_yaml_tls_true_keeps_the_profiles_certificates(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(certificates.client_cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(certificates.client_key))
    assert tls_of(tls=True).client_cert == certificates.client_cert.read_bytes()


def test_yaml_tls_keys_replace_only_the_same_keys_of_the_profile(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other_ca = write(tmp_path / "other-ca.pem", certificates.server_cert.read_bytes())
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(certificates.client_cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(certificates.client_key))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(certificates.ca))
    tls = tls_of(tls={"server_ca_cert": str(other_ca)})
    assert tls.server_root_ca_cert == other_ca.read_bytes()
    assert tls.client_cert == certificates.client_cert.read_bytes()


def test_yaml_tls_false_ignores_the_profiles_certificates(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", "/nowhere/never-read.pem")
    assert resolve_connect_options(TemporalConfig(tls=False)).tls is False


def test_a_yaml_certificate_that_cannot_be_read_is_named(tmp_path: Path, certificates: Certificates) -> None:
    missing = tmp_path / "nowhere" / "client.pem"
    with pytest.raises(TemporalSettingsError) as raised:
        tls_of(tls={"client_cert": str(missing), "client_key": {"file": str(certificates.client_key)}})
    assert str(raised.value) == (
        f"temporal.tls.client_cert: cannot read the client certificate {missing}: No such file or directory"
    )


def test_a_yaml_key_that_cannot_be_read_is_named(tmp_path: Path, certificates: Certificates) -> None:
    missing = tmp_path / "nowhere" / "client.key"
    with pytest.raises(TemporalSettingsError, match=rf"^temporal\.tls\.client_key: cannot read secret file {missing}"):
        tls_of(tls={"client_cert": str(certificates.client_cert), "client_key": {"file": str(missing)}})


def test_a_profile_certificate_that_cannot_be_read_names_the_variable_and_file(
    tmp_path: Path, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "client.pem"
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(missing))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(certificates.client_key))
    with pytest.raises(TemporalSettingsError) as raised:
        tls_of()
    assert str(raised.value) == (
        f"TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read the client certificate {missing}: No such file or directory"
    )


def test_a_file_that_is_not_pem_is_named(tmp_path: Path, certificates: Certificates) -> None:
    der = write(tmp_path / "client.der", b"\x30\x82\x01\x0a")
    with pytest.raises(
        TemporalSettingsError, match=rf"^temporal\.tls\.client_cert: the client certificate {der} is not"
    ):
        tls_of(tls={"client_cert": str(der), "client_key": {"file": str(certificates.client_key)}})


def test_a_certificate_without_its_key_is_refused(certificates: Certificates) -> None:
    with pytest.raises(TemporalSettingsError, match=r"^temporal\.tls: .* client_key is set neither"):
        tls_of(tls={"client_cert": str(certificates.client_cert)})
