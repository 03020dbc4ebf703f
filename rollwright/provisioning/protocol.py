"""What the runner and its child process say to each other: one JSON request on stdin, JSON lines on stdout.

Progress lines stream while the operation runs; the last line is the result. Secrets never travel here:
the passphrase reaches the child through its environment.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from rollwright.domain.policy import PolicyVerdict


class Operation(StrEnum):
    PREVIEW = "preview"
    # Preview with the policy packs, then `up` with them, in one process: a refused preview never reaches `up`.
    PROVISION = "provision"
    REFRESH = "refresh"
    # Tears down what the stack manages, except protected resources (the environment's database).
    DESTROY = "destroy"


class GuardrailContext(BaseModel):
    """What the built-in pack needs to know beyond the stack's own config; the child reads the backend for the rest."""

    environment: str
    production: bool = False
    # Every configured stack (all services, all environments) → its environment; whatever a stack of another
    # environment exports is off limits here.
    stack_environments: dict[str, str] = Field(default_factory=dict)
    # The configured environments' names: a stack the config does not list (a retired service) is attributed by
    # the name segment that is one of them.
    environments: list[str] = Field(default_factory=list)


class ChildRequest(BaseModel):
    operation: Operation
    project: str
    stack: str
    work_dir: str
    program: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    config: dict[str, str]
    clear_pending_creates: bool = False
    guardrails: GuardrailContext | None = None
    policy_packs: list[str] = Field(default_factory=list, description="the teams' packs, after the built-in one")


class Progress(BaseModel):
    kind: Literal["progress"] = "progress"
    done: int
    total: int | None = None
    op: str
    resource: str


class StepRecord(BaseModel):
    """One engine step on a user resource (never the Stack or a provider)."""

    op: str
    urn: str
    type: str
    name: str
    changed_keys: list[str] = Field(default_factory=list)
    protected: bool = False
    old_inputs: dict[str, Any] | None = None
    new_inputs: dict[str, Any] | None = None


class ErrorKind(StrEnum):
    SETUP = "setup"
    BUSY = "busy"
    PROGRAM = "program"
    COMMAND = "command"
    GUARDRAIL = "guardrail"


class ChildError(BaseModel):
    kind: ErrorKind
    message: str
    violations: list[str] = Field(default_factory=list)


class ChildResult(BaseModel):
    kind: Literal["result"] = "result"
    operation: Operation
    steps: list[StepRecord] = Field(default_factory=list, description="the preview's steps, if one ran")
    outputs: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, int] = Field(default_factory=dict)
    verdicts: list[PolicyVerdict] = Field(default_factory=list, description="every pack's verdicts, all levels")
    error: ChildError | None = None

    @property
    def changed(self) -> int:
        return sum(count for op, count in self.summary.items() if op != "same")
