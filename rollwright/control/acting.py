"""Who performs a control operation: a name for the audit trail, and, when the control API verified them, a
signer that attaches an attestation to each request and a check of their roles for each environment.

The CLI talking to Temporal directly acts as an unverified name with no checks (anyone who can reach Temporal can
do as much); the control API acts as the token's subject, signs under `api.control_key`, and checks the roles the
config grants the token's groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from rollwright.domain.attestation import ATTESTATION_FIELD, Attestation, Operator, attest

# (control, workflow id, request) -> the attestation that vouches for exactly that request there.
Signer = Callable[[str, str, BaseModel], Attestation]
# (action, environment) -> None, or raises Forbidden.
Authorizer = Callable[[str, str], None]

RequestT = TypeVar("RequestT", bound=BaseModel)


def key_signer(key: bytes, operator: Operator) -> Signer:
    def sign(control: str, workflow_id: str, request: BaseModel) -> Attestation:
        return attest(key, operator, control, workflow_id, request, datetime.now(UTC))

    return sign


@dataclass(frozen=True)
class Acting:
    actor: str
    signer: Signer | None = None
    # Where a version queued by this operator came from, as its SourceEvent says.
    via: str = "cli"
    authorizer: Authorizer | None = None

    @property
    def verified(self) -> bool:
        """Whether who acts was verified (by the control API, which alone holds a signer)."""
        return self.signer is not None

    def authorize(self, action: str, environment: str) -> None:
        """Forbidden unless the operator may `action` in `environment`; called before anything is sent."""
        if self.authorizer is not None:
            self.authorizer(action, environment)

    def attach(self, control: str, workflow_id: str, request: RequestT) -> RequestT:
        """`request` as it goes to `workflow_id`: signed when the operator was verified."""
        if self.signer is None:
            return request
        return request.model_copy(update={ATTESTATION_FIELD: self.signer(control, workflow_id, request)})
