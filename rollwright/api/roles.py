"""What each role may do, and where: `api.roles` grants roles to groups per environment; this says what a role
allows. Every role may read the status of the environments it holds."""

from __future__ import annotations

from rollwright.config.models import ApiRolesConfig, RoleGrant
from rollwright.control.acting import Authorizer
from rollwright.control.errors import Forbidden
from rollwright.control.models import Action
from rollwright.domain.attestation import Operator

DEPLOYER_ACTIONS = frozenset(
    {
        Action.PAUSE,
        Action.RESUME,
        Action.ABORT,
        Action.PROMOTE,
        Action.ROLLBACK,
        Action.DEPLOY,
        Action.RELEASE,
        Action.UNBLOCK,
        Action.STATUS,
    }
)
APPROVER_ACTIONS = frozenset({Action.APPROVE, Action.STATUS})
ADMIN_ACTIONS = frozenset(Action)


def _grants(roles: ApiRolesConfig) -> dict[str, tuple[RoleGrant, frozenset[Action]]]:
    return {
        "deployer": (roles.deployer, DEPLOYER_ACTIONS),
        "approver": (roles.approver, APPROVER_ACTIONS),
        "admin": (roles.admin, ADMIN_ACTIONS),
    }


def holds_a_role(roles: ApiRolesConfig, operator: Operator) -> bool:
    """Whether any role is granted to the operator anywhere (else every call is refused at once)."""
    return any(group in grant.groups for grant, _ in _grants(roles).values() for group in operator.groups)


def authorizer(roles: ApiRolesConfig, operator: Operator) -> Authorizer:
    def authorize(action: str, environment: str) -> None:
        wanted = Action(action)
        allowed_by = [name for name, (_, actions) in _grants(roles).items() if wanted in actions]
        for name in allowed_by:
            grant, _ = _grants(roles)[name]
            if grant.covers(operator.groups, environment):
                return
        raise Forbidden(f"{operator.subject} may not {action} in {environment} (needs: {' or '.join(allowed_by)})")

    return authorize
