"""The one way Rollwright connects to Temporal: worker, webhook receiver and CLI all come through here.

Settings are merged from three places, each replacing the keys the one before it set:

1. the Temporal profile's TOML file (Temporal's own format, shared with the `temporal` CLI):
   `temporal.config_file`, else `$TEMPORAL_CONFIG_FILE`, else `~/.config/temporalio/temporal.toml`;
   the profile is `temporal.profile`, else `$TEMPORAL_PROFILE`, else `default`;
2. the standard `TEMPORAL_*` variables (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
   `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH`, `TEMPORAL_TLS_CLIENT_KEY_PATH`, …);
3. the keys written in Rollwright's YAML `temporal:` section.

Steps 1 and 2 are `temporalio.envconfig`'s; Rollwright adds only step 3 and errors that name the file.

Errors:
TemporalSettingsError     the settings cannot be used (profile, file, certificate, key): a usage error
TemporalUnreachableError  the settings are fine but the server did not answer
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile, ClientConfigTLS, DataSource
from temporalio.service import TLSConfig

from rollwright.config.models import TemporalConfig, TemporalTLSConfig
from rollwright.observability.logging import register_secret
from rollwright.secrets import SecretRef, SecretUnavailableError, read_secret

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_PROFILE = "default"
CONFIG_FILE_ENV = "TEMPORAL_CONFIG_FILE"
PROFILE_ENV = "TEMPORAL_PROFILE"
# Which variable envconfig reads each TLS file from, so an error can say where a bad path came from.
_PATH_ENV = {
    "server_ca_cert": "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "client_cert": "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "client_key": "TEMPORAL_TLS_CLIENT_KEY_PATH",
}
_PEM_MARKER = b"-----BEGIN "


class TemporalSettingsError(ValueError):
    """The Temporal connection settings cannot be used; the message names the setting and the file."""


class TemporalUnreachableError(RuntimeError):
    """The settings are usable, but the Temporal server did not answer at the address they name."""


@dataclass(frozen=True)
class ConnectOptions:
    """What `Client.connect` gets once the profile, the variables and the YAML are merged."""

    target_host: str
    namespace: str
    # Secrets and key material stay out of reprs (and so out of logs and assertion messages).
    api_key: str | None = field(default=None, repr=False)
    tls: bool | TLSConfig = field(default=False, repr=False)
    rpc_metadata: Mapping[str, str] = field(default_factory=dict)
    profile: str = DEFAULT_PROFILE


def resolve_connect_options(config: TemporalConfig) -> ConnectOptions:
    """Merge the Temporal profile, `TEMPORAL_*` variables and the YAML's keys; read certificates and keys."""
    profile_name = config.profile or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    profile = _load_profile(config, profile_name)
    api_key = _read_yaml_secret(config.api_key, "temporal.api_key") if config.api_key else profile.api_key
    if api_key is not None:
        register_secret(api_key)
    return ConnectOptions(
        target_host=config.address or profile.address or DEFAULT_ADDRESS,
        namespace=config.namespace or profile.namespace or DEFAULT_NAMESPACE,
        api_key=api_key,
        tls=_tls(config.tls, profile.tls, profile_name, has_api_key=api_key is not None),
        rpc_metadata=dict(profile.grpc_meta),
        profile=profile_name,
    )


async def connect_temporal(config: TemporalConfig, *, lazy: bool = False) -> Client:
    """`lazy=True` returns at once and connects on first use (the receiver starts before Temporal does)."""
    options = resolve_connect_options(config)
    try:
        return await Client.connect(
            options.target_host,
            namespace=options.namespace,
            api_key=options.api_key,
            tls=options.tls,
            rpc_metadata=options.rpc_metadata,
            data_converter=pydantic_data_converter,
            lazy=lazy,
        )
    except RuntimeError as exc:  # the SDK's core reports transport and TLS failures as RuntimeError
        raise TemporalUnreachableError(
            f"cannot reach Temporal at {options.target_host} (namespace {options.namespace}): {exc}"
        ) from exc


def _load_profile(config: TemporalConfig, profile_name: str) -> ClientConfigProfile:
    file = config.config_file or os.environ.get(CONFIG_FILE_ENV)
    origin = "temporal.config_file" if config.config_file else CONFIG_FILE_ENV
    # envconfig treats a missing file as an empty one; a file someone named must exist.
    if file and not Path(file).expanduser().is_file():
        raise TemporalSettingsError(f"{origin}: no Temporal config file at {file}")
    try:
        return ClientConfigProfile.load(
            # Only a profile someone named must exist; envconfig applies the same default when it is not named.
            profile=config.profile,
            config_source=Path(file).expanduser() if file else None,
            # A misspelt key in the TOML would otherwise be ignored without a word.
            config_file_strict=True,
        )
    except RuntimeError as exc:  # envconfig's ConfigError: unreadable TOML, unknown key, missing profile
        where = file or "the default Temporal config file"
        detail = " ".join(str(exc).split())
        raise TemporalSettingsError(f"Temporal profile {profile_name!r} from {where}: {detail}") from None


def _tls(
    yaml_tls: bool | TemporalTLSConfig | None,
    profile_tls: ClientConfigTLS | None,
    profile_name: str,
    *,
    has_api_key: bool,
) -> bool | TLSConfig:
    if yaml_tls is False:
        return False
    if yaml_tls is None:
        if profile_tls is not None and profile_tls.disabled:
            return False
        # As envconfig does: an API key implies TLS, and so does any TLS setting in the profile.
        if profile_tls is None and not has_api_key:
            return False
    overrides = yaml_tls if isinstance(yaml_tls, TemporalTLSConfig) else TemporalTLSConfig()
    base = profile_tls or ClientConfigTLS()

    def from_profile(source: DataSource | None, key: str, what: str) -> bytes | None:
        return _read_profile_source(source, key, what, profile_name)

    server_ca = (
        _read_pem_file(overrides.server_ca_cert, "temporal.tls.server_ca_cert", "server CA certificate")
        if overrides.server_ca_cert
        else from_profile(base.server_root_ca_cert, "server_ca_cert", "server CA certificate")
    )
    client_cert = (
        _read_pem_file(overrides.client_cert, "temporal.tls.client_cert", "client certificate")
        if overrides.client_cert
        else from_profile(base.client_cert, "client_cert", "client certificate")
    )
    client_key = (
        _read_pem_secret(overrides.client_key, "temporal.tls.client_key")
        if overrides.client_key
        else from_profile(base.client_private_key, "client_key", "client key")
    )
    if (client_cert is None) != (client_key is None):
        missing = "client_key" if client_key is None else "client_cert"
        raise TemporalSettingsError(
            f"temporal.tls: a client certificate and its key go together; {missing} is set neither in the YAML "
            f"nor in Temporal profile {profile_name!r}"
        )
    server_name = overrides.server_name or base.server_name
    if server_ca is None and client_cert is None and server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=server_ca, domain=server_name, client_cert=client_cert, client_private_key=client_key
    )


def _read_yaml_secret(ref: SecretRef, setting: str) -> str:
    try:
        return read_secret(ref)
    except SecretUnavailableError as exc:
        raise TemporalSettingsError(f"{setting}: {exc}") from None


def _read_pem_file(path: str, setting: str, what: str) -> bytes:
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise TemporalSettingsError(f"{setting}: cannot read the {what} {file}: {exc.strerror}") from None
    return _checked_pem(data, f"{setting}: the {what} {file}")


def _read_pem_secret(ref: SecretRef, setting: str) -> bytes:
    where = f"file {ref.file}" if ref.file is not None else f"variable {ref.env}"
    return _checked_pem(_read_yaml_secret(ref, setting).encode(), f"{setting}: the client key in {where}")


def _read_profile_source(source: DataSource | None, key: str, what: str, profile_name: str) -> bytes | None:
    if source is None:
        return None
    if not isinstance(source, Path):
        data = source.encode() if isinstance(source, str) else source
        return _checked_pem(data, f"the {what} data of Temporal profile {profile_name!r}")
    env = _PATH_ENV[key]
    origin = env if os.environ.get(env) == str(source) else f"Temporal profile {profile_name!r}"
    try:
        data = source.expanduser().read_bytes()
    except OSError as exc:
        raise TemporalSettingsError(f"{origin}: cannot read the {what} {source}: {exc.strerror}") from None
    return _checked_pem(data, f"{origin}: the {what} {source}")


def _checked_pem(data: bytes, described: str) -> bytes:
    # The SDK's core would only say "PrivateKeyParseError" at connect time, naming no file.
    if _PEM_MARKER not in data:
        raise TemporalSettingsError(f"{described} is not PEM (no '-----BEGIN' line)")
    return data


def exit_without_finalizing(code: int) -> NoReturn:
    """End a process that used a Temporal client, once everything it opened is closed.

    The client's Rust core keeps native threads that can abort CPython's finalization (SIGABRT,
    "PyGILState_Release: thread state must be current"; temporalio/sdk-python#300), which would turn a
    successful command into exit status -6. Nothing is left to finalize, so skip it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
