"""What a Pulumi preview says a version would change in one region."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rollwright.domain.identity import RegionTarget


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
