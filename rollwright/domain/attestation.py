"""Verified operators: the control API vouches for who asks, and the workflows check it.

Anyone who can reach Temporal can send an update with any actor name, so a name alone proves nothing. The control
API verifies a bearer token (rollwright/api) and attaches an Attestation to the request it forwards: the token's
subject and groups, signed with HMAC-SHA256 under a key only the API and the workers hold (`api.control_key`). A
workflow's update validator checks the signature against the installed key, the workflow id and control it is
addressed to, and its age; a request without one is the actor's own word and is recorded as unverified.

The check is pure computation over the request, so it may run inside a workflow's validator. The key is installed
once per process by the worker (`install_control_key`) and never reaches history.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

# An attestation older than this is refused: a captured request cannot be replayed later.
MAX_AGE = timedelta(minutes=5)
# Clocks of the API host and the Temporal server may disagree a little.
CLOCK_SKEW = timedelta(seconds=30)
ATTESTATION_FIELD = "attestation"

_installed_key: bytes | None = None


class Operator(BaseModel):
    """Who asks, as the control API verified them: the token's subject and the groups its roles claim gave."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(min_length=1)
    groups: tuple[str, ...] = ()


class Attestation(BaseModel):
    """The control API's signed word that `operator` sent this exact request to this workflow's `control`."""

    model_config = ConfigDict(frozen=True)

    operator: Operator
    issued_at: datetime
    signature: str = Field(min_length=64, max_length=64)


def install_control_key(key: bytes | None) -> None:
    """The key workers check attestations with (None: no verified controls are accepted in this process)."""
    global _installed_key
    _installed_key = key


def installed_control_key() -> bytes | None:
    return _installed_key


def _message(operator: Operator, issued_at: datetime, control: str, workflow_id: str, request: BaseModel) -> bytes:
    body = {
        "subject": operator.subject,
        "groups": list(operator.groups),
        "issued_at": issued_at.isoformat(),
        "control": control,
        "workflow_id": workflow_id,
        "request": request.model_dump(mode="json", exclude={ATTESTATION_FIELD}),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def attest(
    key: bytes, operator: Operator, control: str, workflow_id: str, request: BaseModel, now: datetime
) -> Attestation:
    """Sign `request` (everything but its own attestation field) for `control` on `workflow_id`."""
    signature = hmac.new(key, _message(operator, now, control, workflow_id, request), hashlib.sha256).hexdigest()
    return Attestation(operator=operator, issued_at=now, signature=signature)


def attestation_problem(
    attestation: Attestation, control: str, workflow_id: str, request: BaseModel, now: datetime
) -> str | None:
    """Why `attestation` does not vouch for `request` (checked with the installed key), or None when it does."""
    key = _installed_key
    if key is None:
        return "this worker has no control key (api.control_key), so it cannot check a verified request"
    expected = hmac.new(
        key, _message(attestation.operator, attestation.issued_at, control, workflow_id, request), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, attestation.signature):
        return "the request's attestation does not match it (signed for another request, workflow or key)"
    if attestation.issued_at > now + CLOCK_SKEW:
        return "the request's attestation is dated in the future"
    if now - attestation.issued_at > MAX_AGE:
        return f"the request's attestation is older than {int(MAX_AGE.total_seconds() // 60)} minutes"
    return None
