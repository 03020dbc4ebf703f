"""What the runner and its child process say to each other: one JSON request on stdin, JSON lines on stdout.

Progress lines stream while the operation runs; the last line is the result. Secrets never travel here:
the passphrase reaches the child through its environment.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class Operation(StrEnum):
    PREVIEW = "preview"
    # Preview, guardrails, then `up`, in one process: a refused preview never reaches `up`.
    PROVISION = "provision"
    REFRESH = "refresh"
    # Tears down what the stack manages, except protected resources (the environment's database).
    DESTROY = "destroy"


class GuardrailContext(BaseModel):
    environment: str
    # Stacks of the same service in other environments, by stack name → that stack's environment.
    foreign_stacks: dict[str, str] = Field(default_factory=dict)


class ChildRequest(BaseModel):
    operation: Operation
    project: str
    stack: str
    work_dir: str
    program: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    config: dict[str, str]
    clear_pending_creates: bool = False
    guardrails: GuardrailContext | None = None


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
    reference_outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    error: ChildError | None = None

    @property
    def changed(self) -> int:
        return sum(count for op, count in self.summary.items() if op != "same")
