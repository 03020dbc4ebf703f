"""Everything the provisioning client raises; the activity maps these to Temporal errors once.

ProvisioningError
├── PulumiSetupError        the CLI, a secret or the program cannot be found (retrying will not help)
├── StackBusyError          a live process holds the stack's lock (retry later)
├── PulumiOperationError    the CLI failed, or its process died without a result (retry)
│   └── ProgramError        the Pulumi program itself raised (retrying will not help)
└── GuardrailViolation      a policy pack (or Pulumi's protect flag) refuses the change (retrying will not help)
"""

from __future__ import annotations


class ProvisioningError(Exception):
    """Base of every provisioning failure."""


class PulumiSetupError(ProvisioningError):
    """The runner cannot start: no `pulumi` CLI, no passphrase, or a program that does not import."""


class StackBusyError(ProvisioningError):
    """Another live process is running an operation on the stack."""

    def __init__(self, stack: str, holder: str) -> None:
        super().__init__(f"stack {stack} is locked by {holder}")
        self.stack = stack
        self.holder = holder


class PulumiOperationError(ProvisioningError):
    """A Pulumi operation failed; `detail` holds the end of the CLI's output."""

    def __init__(self, operation: str, stack: str, detail: str) -> None:
        super().__init__(f"pulumi {operation} on {stack} failed: {detail}")
        self.operation = operation
        self.stack = stack
        self.detail = detail


class ProgramError(PulumiOperationError):
    """The Pulumi program raised an exception or rejected its inputs."""


class GuardrailViolation(ProvisioningError):
    """One or more mandatory policies refuse the change; each violation names the pack, the rule, the resource and
    the offending value's origin. Refused by the preview, nothing was changed; refused only by `up` (a value the
    preview could not know yet), the resources the engine reached first may have been."""

    def __init__(self, stack: str, violations: list[str]) -> None:
        joined = "; ".join(violations)
        super().__init__(f"guardrails refused the change to stack {stack}: {joined}")
        self.stack = stack
        self.violations = violations
