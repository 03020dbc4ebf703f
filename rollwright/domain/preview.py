"""What a Pulumi preview says a version would change in one region."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rollwright.domain.identity import RegionTarget
from rollwright.domain.policy import PolicyVerdict


class ResourceChange(BaseModel):
    urn: str
    type: str
    name: str
    op: str = Field(description="create | update | delete | replace")
    changed_keys: list[str] = Field(default_factory=list)


class PreviewResult(BaseModel):
    target: RegionTarget
    changes: list[ResourceChange]
    markdown: str
    table: str
    # What the policy packs said; a preview with a mandatory verdict fails instead (GuardrailViolation).
    verdicts: list[PolicyVerdict] = Field(default_factory=list)


PREVIEW_WORKFLOW = "PreviewWorkflow"


class PreviewRequest(BaseModel):
    """`rollwright preview SERVICE ENV TAG`: what a deployment of TAG would change in each region of ENV."""

    service: str
    environment: str
    tag: str


class RegionPreview(BaseModel):
    target: RegionTarget
    result: PreviewResult | None = None
    error: str | None = None
    error_type: str | None = Field(default=None, description="e.g. GuardrailViolation")


class PreviewReport(BaseModel):
    service: str
    environment: str
    tag: str
    digest: str | None = None
    problem: str | None = Field(default=None, description="why nothing was previewed (unknown environment, …)")
    regions: list[RegionPreview] = Field(default_factory=list)
