"""The commit message: a subject people read, and trailers Rollwright finds its own commits by."""

from __future__ import annotations

from pydantic import BaseModel

from rollwright.domain.digest import short
from rollwright.domain.identity import RegionTarget

WORKFLOW_TRAILER = "Rollwright-Workflow-Id"
TARGET_TRAILER = "Rollwright-Target"
PURPOSE_TRAILER = "Rollwright-Purpose"


class CommitIdentity(BaseModel):
    """What makes a commit this deployment's, for this region and purpose: a retry must find it."""

    workflow_id: str
    target: RegionTarget
    purpose: str

    def trailers(self) -> dict[str, str]:
        return {
            WORKFLOW_TRAILER: self.workflow_id,
            TARGET_TRAILER: self.target.key,
            PURPOSE_TRAILER: self.purpose,
        }


def commit_message(identity: CommitIdentity, tag: str | None, digest: str | None) -> str:
    target = identity.target
    version = tag or (short(digest) if digest else "no image")
    subject = f"{identity.purpose.replace('_', ' ')} {target.service} {version} to {target.environment}/{target.region}"
    body = [
        f"Service: {target.service}",
        f"Tag: {tag or '-'}",
        f"Digest: {digest or '-'}",
    ]
    trailers = [f"{key}: {value}" for key, value in identity.trailers().items()]
    return "\n".join([subject[:1].upper() + subject[1:], "", *body, "", *trailers]) + "\n"
