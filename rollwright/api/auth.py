"""Who a request comes from: its bearer JWT, verified against the OIDC issuer's published keys (JWKS).

A token is accepted only when all hold: it is signed with RS256 or ES256 (never `none`, never an HMAC keyed with a
public key) by a key the issuer's JWKS publishes under the token's `kid`; `iss` is the configured issuer; `aud`
names the configured audience; `exp` is present and not past (within `api.leeway`); `sub` names someone. The
operator's groups come from the configured roles claim.

The JWKS is fetched when first needed and kept for `JWKS_MAX_AGE`; a token naming a `kid` not in it refetches
at most once per `JWKS_MIN_REFRESH`, so a stream of garbled tokens cannot make the issuer a target.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from rollwright.domain.attestation import Operator

ALGORITHMS = ("RS256", "ES256")
JWKS_MAX_AGE = 300.0
JWKS_MIN_REFRESH = 30.0
JWKS_TIMEOUT = 5.0
# Far more than any real token; a longer header is refused before anything is parsed.
MAX_TOKEN_BYTES = 16 * 1024
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


class Unauthenticated(Exception):
    """401: the request does not prove who sent it. `str(exc)` says why, without echoing the token."""

    def __init__(self, reason: str, *, token_given: bool = True) -> None:
        super().__init__(reason)
        # RFC 6750: a request without credentials is told only the scheme, one with a bad token why it failed.
        self.token_given = token_given


class IssuerUnavailable(Exception):
    """503: the issuer's keys could not be fetched, so no token can be checked now."""


@dataclass
class _KeySet:
    keys: dict[str | None, PyJWK]
    fetched_at: float


class Jwks:
    """The issuer's signing keys by `kid`, fetched over HTTP and cached."""

    def __init__(self, url: str, *, timeout: float = JWKS_TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        self._cached: _KeySet | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> PyJWK | None:
        now = time.monotonic()
        cached = self._cached
        if (
            cached is None
            or now - cached.fetched_at > JWKS_MAX_AGE
            or (kid not in cached.keys and now - cached.fetched_at > JWKS_MIN_REFRESH)
        ):
            cached = await self._refresh(cached)
        return cached.keys.get(kid)

    async def _refresh(self, seen: _KeySet | None) -> _KeySet:
        async with self._lock:
            if self._cached is not seen and self._cached is not None:  # another request refreshed meanwhile
                return self._cached
            try:
                async with httpx.AsyncClient(timeout=self._timeout) as http:
                    response = await http.get(self._url)
                response.raise_for_status()
                found = PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                raise IssuerUnavailable(f"cannot read the issuer's keys at {self._url}: {type(exc).__name__}") from None
            keys: dict[str | None, PyJWK] = {key.key_id: key for key in found.keys}
            self._cached = _KeySet(keys=keys, fetched_at=time.monotonic())
            return self._cached


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("no bearer token (Authorization: Bearer <JWT>)", token_given=False)
    if len(authorization) > MAX_TOKEN_BYTES:
        raise Unauthenticated("the Authorization header is too long to be a token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header is not 'Bearer <JWT>'")
    return token.strip()


def groups_of(claims: dict[str, Any], claim: str) -> tuple[str, ...]:
    """The roles claim as a list of names; a single string counts as one (some issuers send one group bare)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


class TokenVerifier:
    def __init__(self, *, issuer: str, audience: str, roles_claim: str, leeway: timedelta, jwks: Jwks) -> None:
        self._issuer = issuer
        self._audience = audience
        self._claim = roles_claim
        self._leeway = leeway
        self._jwks = jwks

    async def verify(self, authorization: str | None) -> Operator:
        """The verified operator, or Unauthenticated (401) / IssuerUnavailable (503)."""
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"tokens signed with {str(algorithm)[:20]!r} are not accepted (RS256, ES256)")
        kid = header.get("kid")
        key = await self._jwks.key(kid if isinstance(kid, str) else None)
        if key is None:
            raise Unauthenticated("the token is not signed by a key the issuer publishes")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token was issued by another issuer") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is meant for another audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token is not valid ({type(exc).__name__})") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthenticated("the token's 'sub' names no one")
        return Operator(subject=subject, groups=groups_of(claims, self._claim))
