"""What a policy pack said about a change: one verdict per violation, mandatory (the change is refused) or
advisory (the change goes on, and people are told)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class EnforcementLevel(StrEnum):
    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class PolicyVerdict(BaseModel):
    pack: str = Field(description="the policy pack, or `pulumi` for the engine's own protect flag")
    policy: str
    level: EnforcementLevel
    resource: str = Field(description="the resource's name, or the stack's for a stack-wide rule")
    urn: str | None = None
    message: str

    def __str__(self) -> str:
        return f"[{self.pack}/{self.policy}, {self.level.value}] {self.resource}: {self.message}"
