"""The control operations an operator performs on a service's lanes and deployments (and freezes, freezes.py), as
plain async functions.

Each takes a Temporal client, the config, who acts (`Acting`) and one order model, and returns a result model or
raises a ControlError (errors.py). The CLI (talking to Temporal directly) and the control API (rollwright/api,
which verifies who acts) are both thin over these.
"""

from rollwright.control.acting import Acting, key_signer
from rollwright.control.deploy import deploy
from rollwright.control.deployments import control_deployment
from rollwright.control.errors import Conflict, ControlError, Forbidden, Invalid, NotFound, Unavailable
from rollwright.control.freezing import freeze, unfreeze
from rollwright.control.lane_controls import promote, release, rollback
from rollwright.control.status import status
from rollwright.control.versions import unblock

__all__ = [
    "Acting",
    "Conflict",
    "ControlError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Unavailable",
    "control_deployment",
    "deploy",
    "freeze",
    "key_signer",
    "promote",
    "release",
    "rollback",
    "status",
    "unblock",
    "unfreeze",
]
