"""An OIDC issuer of the tests' own (keys generated here, its JWKS served over real HTTP), and a service whose
lanes and deployments run for real on the dev server (tests/cli's stack) with the control API in front of it."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from temporalio.testing import WorkflowEnvironment

from devstack.ports import free_port
from rollwright.config.loader import load_config
from rollwright.domain.attestation import install_control_key
from rollwright.webhooks.app import create_app
from tests.cli.conftest import CliStack, cli_stack
from tests.webhooks.conftest import serving

AUDIENCE = "rollwright-control"
APPROVER = "ada@example.com"
DEPLOYER = "dev@example.com"
# The roles the stack's config grants (api.roles): approvers approve prod only; admins hold staging only.
ROLES = {
    "deployer": {"groups": ["deployers"], "environments": "all"},
    "approver": {"groups": ["approvers"], "environments": ["prod"]},
    "admin": {"groups": ["staging-admins"], "environments": ["staging"]},
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Issuer:
    """Signs tokens as the OIDC issuer would; only `rsa` and `ec` are published in its JWKS."""

    issuer: str
    jwks_url: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    stranger: rsa.RSAPrivateKey  # a key nobody published

    def claims(self, subject: str, groups: list[str], **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": subject, "groups": groups, "iat": now, "exp": now + 300}
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def token(
        self, subject: str, groups: list[str], *, alg: str = "RS256", kid: str | None = None, **claims: Any
    ) -> str:
        key: Any = self.ec_key if alg == "ES256" else self.rsa_key
        kid = kid or ("ec-1" if alg == "ES256" else "rsa-1")
        return jwt.encode(self.claims(subject, groups, **claims), key, algorithm=alg, headers={"kid": kid})

    def stranger_token(self, subject: str, groups: list[str]) -> str:
        """Well-formed, issued in this issuer's name, under the published key's kid, signed by another key."""
        return jwt.encode(self.claims(subject, groups), self.stranger, algorithm="RS256", headers={"kid": "rsa-1"})

    def unsigned_token(self, subject: str, groups: list[str]) -> str:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).encode())
        return f"{header}.{_b64(json.dumps(self.claims(subject, groups)).encode())}."

    def hmac_with_public_key(self, subject: str, groups: list[str]) -> str:
        """The classic confusion attack: HS256 keyed with the issuer's public key, which anyone can read."""
        public = self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
        body = _b64(json.dumps(self.claims(subject, groups)).encode())
        signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"


@contextlib.contextmanager
def jwks_server(document: dict[str, Any]) -> Iterator[str]:
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/realms/test/certs":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    published = [
        {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rsa-1", "use": "sig", "alg": "RS256"},
        {**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "ec-1", "use": "sig", "alg": "ES256"},
    ]
    with jwks_server({"keys": published}) as base:
        yield Issuer(f"{base}/realms/test", f"{base}/realms/test/certs", rsa_key, ec_key, stranger)


@dataclass
class ApiStack:
    cli: CliStack
    http: httpx.AsyncClient
    issuer: Issuer
    token_env: str
    api_config_path: Path  # the same config with api.url: the CLI goes through the API with it
    control_key: bytes

    @property
    def service(self) -> str:
        return self.cli.service

    def bearer(self, token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}"}

    def approver(self) -> dict[str, str]:
        return self.bearer(self.issuer.token(APPROVER, ["approvers"]))

    def deployer(self) -> dict[str, str]:
        return self.bearer(self.issuer.token(DEPLOYER, ["deployers"]))

    def via_api(self) -> CliStack:
        return dataclasses.replace(self.cli, config_path=self.api_config_path)


@pytest.fixture
async def api(temporal_env: WorkflowEnvironment, tmp_path: Path, issuer: Issuer) -> AsyncIterator[ApiStack]:
    async with api_stack(temporal_env, tmp_path, issuer) as stack:
        yield stack


@contextlib.asynccontextmanager
async def api_stack(
    temporal_env: WorkflowEnvironment, tmp_path: Path, issuer: Issuer, prod: dict[str, Any] | None = None
) -> AsyncIterator[ApiStack]:
    """tests/cli's stack with `api:` in its config and the receiver app (API included) in front of it, served
    over real HTTP for the CLI and through httpx's ASGI transport for the tests; `prod`: keys of prod's config."""
    suffix = uuid.uuid4().hex[:8]
    key = f"control-key-{uuid.uuid4().hex}"
    key_env = f"RW_TEST_CONTROL_KEY_{suffix}"
    os.environ[key_env] = key
    token_env = f"RW_TEST_TOKEN_{suffix}"
    # The workers of this process check attestations with the key the API signs under, as worker.py installs it.
    install_control_key(key.encode())
    port = free_port()
    try:
        async with cli_stack(temporal_env, tmp_path, prod=prod) as cli:
            document = yaml.safe_load(cli.config_path.read_text())
            document["api"] = {
                "issuer": issuer.issuer,
                "audience": AUDIENCE,
                "jwks_url": issuer.jwks_url,
                "roles": ROLES,
                "control_key": {"env": key_env},
                "token_env": token_env,
            }
            cli.config_path.write_text(yaml.safe_dump(document))
            api_config_path = tmp_path / "rollwright-api.yaml"
            document["api"]["url"] = f"http://127.0.0.1:{port}"
            api_config_path.write_text(yaml.safe_dump(document))

            app = create_app(load_config(cli.config_path), temporal_env.client)
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_config=None))
            transport = httpx.ASGITransport(app=app)
            async with serving(server), httpx.AsyncClient(transport=transport, base_url="http://rollwright") as http:
                yield ApiStack(cli, http, issuer, token_env, api_config_path, key.encode())
    finally:
        install_control_key(None)
        os.environ.pop(key_env, None)
