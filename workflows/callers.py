"""Who sent an operator control: an operator the control API vouches for, or the request's own word.

An update's validator checks the attestation the control API attached (rollwright/domain/attestation.py) against
this worker's key, the workflow and the workflow's clock. Its handler then trusts it: on replay the validator does
not run again, and a later worker may hold another key, so what a handler records must follow from the request
alone. A signal has no validator: whatever it carries, it is unverified.

Pure functions of their arguments, shared by the deployment's and the lane's controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # Passed through, so the sandbox sees the key the worker installed, not a fresh module's None.
    from pydantic import BaseModel

    from rollwright.domain.attestation import Attestation, attestation_problem


@dataclass(frozen=True)
class Caller:
    """Who the audit records for a control, and whether the control API vouched for them."""

    name: str
    verified: bool = False
    groups: tuple[str, ...] = ()

    def is_(self, other: str | None) -> bool:
        """The same person as `other`: names compare without case or surrounding blanks."""
        return other is not None and _folded(self.name) == _folded(other)


def _folded(name: str) -> str:
    return name.strip().casefold()


def update_caller(actor: str, attestation: Attestation | None) -> Caller:
    """Who sent an update its validator accepted: the attested subject, else the actor's own word."""
    if attestation is None:
        return Caller(actor)
    return Caller(attestation.operator.subject, verified=True, groups=attestation.operator.groups)


def verification_problem(
    control: str,
    request: BaseModel,
    attestation: Attestation | None,
    *,
    workflow_id: str,
    now: datetime,
    environment: str | None,
    require_verified: bool,
) -> str | None:
    """Why an update cannot be taken as sent: its attestation does not hold, or it has none and `environment`
    requires verified controls. None: it can (verified or not)."""
    if attestation is not None:
        return attestation_problem(attestation, control, workflow_id, request, now)
    if require_verified:
        return unverified_refusal(environment)
    return None


def unverified_refusal(environment: str | None) -> str:
    where = environment or "this deployment"
    return (
        f"{where} requires verified controls: send it through the control API (`api.url` in the CLI's config); "
        "a signal or update sent straight to Temporal is only the actor's word"
    )
