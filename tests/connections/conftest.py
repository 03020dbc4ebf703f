"""A clean Temporal client environment per test, certificates from a throwaway CA, and an mTLS front for the
dev server (which itself speaks only plaintext), so client certificates are checked by a real TLS handshake."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme


@pytest.fixture(autouse=True)
def isolated_client_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TEMPORAL_* variable and no ~/.config/temporalio/temporal.toml of whoever runs the tests."""
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@dataclass(frozen=True)
class Certificates:
    """PEM files: the CA both sides trust, the server's certificate for `localhost`, and a client's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_name: str


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    authority = trustme.CA()
    server = authority.issue_cert("localhost")
    client_name = "rollwright-worker.example"
    client = authority.issue_cert(client_name, common_name=client_name)
    tls = tmp_path / "tls"
    return Certificates(
        ca=write(tls / "ca.pem", authority.cert_pem.bytes()),
        server_cert=write(tls / "server.pem", b"".join(pem.bytes() for pem in server.cert_chain_pems)),
        server_key=write(tls / "server.key", server.private_key_pem.bytes()),
        client_cert=write(tls / "client.pem", b"".join(pem.bytes() for pem in client.cert_chain_pems)),
        client_key=write(tls / "client.key", client.private_key_pem.bytes()),
        client_name=client_name,
    )


@dataclass
class MtlsFront:
    port: int
    # The subject common name of each client certificate a handshake accepted.
    clients: list[str] = field(default_factory=list)


def _common_name(peer: object) -> str:
    assert isinstance(peer, dict), peer
    names = [value for rdn in peer["subject"] for key, value in rdn if key == "commonName"]
    return str(names[0]) if names else ""


@contextlib.asynccontextmanager
async def mtls_front(certs: Certificates, upstream: str) -> AsyncIterator[MtlsFront]:
    """TLS on 127.0.0.1 that demands a client certificate signed by the CA, then relays bytes to `upstream`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs.ca))
    context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])  # gRPC clients insist on HTTP/2 being negotiated
    host, port = upstream.rsplit(":", 1)
    front = MtlsFront(port=0)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        front.clients.append(_common_name(writer.get_extra_info("peercert")))
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    front.port = server.sockets[0].getsockname()[1]
    async with server:
        yield front
