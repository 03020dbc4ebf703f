"""Which address, namespace, API key and TLS a process connects with: the Temporal profile (TOML), then the
standard TEMPORAL_* variables, then the keys written in Rollwright's YAML, as the README promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.service import TLSConfig

from rollwright.config.models import TemporalConfig
from rollwright.connections.temporal import (
    DEFAULT_ADDRESS,
    DEFAULT_NAMESPACE,
    ConnectOptions,
    TemporalSettingsError,
    resolve_connect_options,
)
from tests.connections.conftest import write

PROFILES = """
[profile.default]
address = "default.temporal.example:7233"
namespace = "shop-default"

[profile.prod]
address = "prod.temporal.example:7233"
namespace = "shop-prod"
api_key = "key-from-profile"

[profile.prod.tls]
server_name = "prod.temporal.example"

[profile.prod.grpc_meta]
x-team = "platform"
"""


def resolve(**yaml: Any) -> ConnectOptions:
    """The options for a YAML `temporal:` section written as these keys."""
    return resolve_connect_options(TemporalConfig.model_validate(yaml))


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write(tmp_path / "temporal.toml", PROFILES)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(path))
    return path


def test_nothing_configured_anywhere_means_a_local_server_in_plaintext() -> None:
    options = resolve()
    assert (options.target_host, options.namespace) == (DEFAULT_ADDRESS, DEFAULT_NAMESPACE)
    assert options.api_key is None
    assert options.tls is False
    assert options.rpc_metadata == {}


def test_the_default_profile_of_the_default_file_is_read(isolated_client_environment: Path) -> None:
    write(isolated_client_environment / ".config" / "temporalio" / "temporal.toml", PROFILES)
    options = resolve()
    assert (options.target_host, options.namespace) == ("default.temporal.example:7233", "shop-default")


def test_a_profile_chosen_by_temporal_profile_supplies_everything(
    profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    options = resolve(task_queue="rollwright")
    assert options.profile == "prod"
    assert (options.target_host, options.namespace) == ("prod.temporal.example:7233", "shop-prod")
    assert options.api_key == "key-from-profile"
    assert options.rpc_metadata == {"x-team": "platform"}
    assert isinstance(options.tls, TLSConfig)
    assert options.tls.domain == "prod.temporal.example"


def test_temporal_variables_override_the_profile_key_by_key(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "env.temporal.example:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", "key-from-env")
    options = resolve()
    assert options.target_host == "env.temporal.example:7233"
    assert options.api_key == "key-from-env"
    assert options.namespace == "shop-prod"  # not overridden, still the profile's


def test_variables_alone_configure_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # No TOML file at all, as in a container given only environment variables.
    monkeypatch.setenv("TEMPORAL_ADDRESS", "cloud.example:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "shop.a1b2c")
    monkeypatch.setenv("TEMPORAL_API_KEY", "cloud-key")
    options = resolve()
    assert (options.target_host, options.namespace) == ("cloud.example:7233", "shop.a1b2c")
    assert options.api_key == "cloud-key"
    # An API key means TLS unless something says otherwise, as for Temporal's own tools.
    assert options.tls is True


def test_yaml_keys_override_profile_and_variables(
    profiles: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "from-env")
    monkeypatch.setenv("ROLLWRIGHT_TEMPORAL_KEY", "key-from-yaml-secret")
    options = resolve(
        address="yaml.temporal.example:7233", namespace="from-yaml", api_key={"env": "ROLLWRIGHT_TEMPORAL_KEY"}
    )
    assert (options.target_host, options.namespace) == ("yaml.temporal.example:7233", "from-yaml")
    assert options.api_key == "key-from-yaml-secret"
    assert options.rpc_metadata == {"x-team": "platform"}  # what the YAML does not say still comes from the profile


def test_yaml_profile_and_file_win_over_the_variables(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = write(profiles.parent / "other.toml", '[profile.staging]\naddress = "staging.example:7233"\n')
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    options = resolve(profile="staging", config_file=str(other))
    assert (options.profile, options.target_host) == ("staging", "staging.example:7233")


def test_yaml_tls_false_turns_off_the_tls_an_api_key_implies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "k3y-for-a-plaintext-proxy")
    assert resolve().tls is True
    assert resolve(tls=False).tls is False


def test_temporal_tls_false_beats_the_api_key_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "k3y-for-a-plaintext-proxy")
    monkeypatch.setenv("TEMPORAL_TLS", "false")
    assert resolve().tls is False
    assert resolve(tls=True).tls is True  # and the YAML beats both


def test_secrets_stay_out_of_the_options_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "very-secret-key")
    assert "very-secret-key" not in repr(resolve())


def test_a_named_config_file_that_is_missing_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "temporal.toml"
    with pytest.raises(TemporalSettingsError, match=rf"^temporal\.config_file: no Temporal config file at {missing}$"):
        resolve(config_file=str(missing))
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(missing))
    with pytest.raises(TemporalSettingsError, match=rf"^TEMPORAL_CONFIG_FILE: no Temporal config file at {missing}$"):
        resolve()


def test_a_named_profile_that_is_missing_is_an_error_naming_it(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TemporalSettingsError, match=r"Temporal profile 'qa' from .*temporal\.toml: .*'qa' not found"):
        resolve(profile="qa")
    monkeypatch.setenv("TEMPORAL_PROFILE", "qa")
    with pytest.raises(TemporalSettingsError, match=r"Temporal profile 'qa'"):
        resolve()


def test_a_misspelt_key_in_the_profile_is_an_error_not_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path / "temporal.toml", '[profile.default]\nadress = "typo.example:7233"\n')
    with pytest.raises(TemporalSettingsError, match=r"unknown field `adress`") as raised:
        resolve(config_file=str(path))
    assert "\n" not in str(raised.value)


def test_an_unavailable_api_key_secret_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLLWRIGHT_UNSET_KEY", raising=False)
    with pytest.raises(
        TemporalSettingsError, match=r"^temporal\.api_key: environment variable ROLLWRIGHT_UNSET_KEY is not set$"
    ):
        resolve(api_key={"env": "ROLLWRIGHT_UNSET_KEY"})
