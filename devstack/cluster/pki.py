"""The local cluster's certificates and tokens, made once with `openssl` and cached under
${ROLLWRIGHT_CACHE:-~/.cache/rollwright}/cluster/pki/: every later start (and every concurrent session) reuses them.

    ca.crt / ca.key                     signs the serving certificate; also the apiserver's client CA
    apiserver.crt / apiserver.key       serving certificate for 127.0.0.1 (and the in-cluster names)
    service-account.key / .pub          signs and verifies service-account tokens
    tokens.csv                          --token-auth-file: one admin token in group system:masters
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rollwright.provisioning.cli_binary import cache_root

ADMIN_USER = "rollwright-admin"
ADMIN_GROUP = "system:masters"
VALID_DAYS = 3650
# Renewed this long before it expires, so a session never starts on a certificate that lapses mid-run.
RENEW_BEFORE_SECONDS = 30 * 24 * 3600
SERVING_NAMES = (
    "IP:127.0.0.1",
    "IP:10.96.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
)
_FILES = ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "service-account.key", "service-account.pub",
          "tokens.csv")  # fmt: skip


class PkiError(RuntimeError):
    """openssl failed to make the cluster's certificates or keys."""


@dataclass(frozen=True)
class ClusterPki:
    directory: Path
    admin_token: str

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.directory / "apiserver.key"

    @property
    def service_account_key(self) -> Path:
        return self.directory / "service-account.key"

    @property
    def service_account_pub(self) -> Path:
        return self.directory / "service-account.pub"

    @property
    def token_file(self) -> Path:
        return self.directory / "tokens.csv"


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PkiError(f"openssl {args[0]} failed in {cwd}: {result.stderr.strip()}")


def _generate(directory: Path) -> None:
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", str(VALID_DAYS),
             "-subj", "/CN=rollwright-local-cluster-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)  # fmt: skip
    _openssl("req", *ec, "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver",
             cwd=directory)  # fmt: skip
    (directory / "apiserver.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        f"subjectAltName={','.join(SERVING_NAMES)}\n"
    )
    _openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", str(VALID_DAYS), "-extfile", "apiserver.ext", "-out", "apiserver.crt", cwd=directory)  # fmt: skip
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "service-account.key",
             cwd=directory)  # fmt: skip
    _openssl("pkey", "-in", "service-account.key", "-pubout", "-out", "service-account.pub", cwd=directory)
    token = secrets.token_hex(24)
    (directory / "tokens.csv").write_text(f'{token},{ADMIN_USER},{ADMIN_USER},"{ADMIN_GROUP}"\n')
    for leftover in ("apiserver.csr", "apiserver.ext", "ca.srl"):
        (directory / leftover).unlink(missing_ok=True)
    for name in _FILES:
        (directory / name).chmod(0o600)


def _usable(directory: Path) -> bool:
    if not all((directory / name).is_file() for name in _FILES):
        return False
    check = subprocess.run(
        ["openssl", "x509", "-checkend", str(RENEW_BEFORE_SECONDS), "-noout", "-in", str(directory / "apiserver.crt")],
        capture_output=True,
    )
    return check.returncode == 0


def _read(directory: Path) -> ClusterPki:
    token = (directory / "tokens.csv").read_text().split(",", 1)[0]
    return ClusterPki(directory=directory, admin_token=token)


def ensure_pki(root: Path | None = None) -> ClusterPki:
    """The cached PKI, made first if it is missing, incomplete or close to expiry."""
    directory = root or cache_root() / "cluster" / "pki"
    if _usable(directory):
        return _read(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if directory.exists():
        # Moved aside rather than deleted: a session still running on it keeps its files.
        directory.rename(directory.with_name(f"{directory.name}.replaced-{secrets.token_hex(4)}"))
    staging = Path(tempfile.mkdtemp(prefix=f"{directory.name}.new-", dir=directory.parent))
    try:
        _generate(staging)
        # A rename is atomic: of two sessions generating at once, one wins and the other uses the winner's files.
        with contextlib.suppress(OSError):
            os.rename(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not _usable(directory):
        raise PkiError(f"the cluster PKI in {directory} is incomplete after generating it; delete the directory")
    return _read(directory)
