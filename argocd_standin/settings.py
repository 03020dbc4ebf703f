"""How one stand-in instance runs: where its repository and state live, how fast simulated time passes."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StandinSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: Path = Field(description="the GitOps repository (bare or not) Applications read manifests from")
    state_file: Path
    token: str = Field(min_length=1, description="the only bearer token accepted")
    speed: float = Field(default=1.0, gt=0, description="simulated seconds per real second (pauses, analysis)")
    branch: str = "main"
    app_template: str = "{service}-{env}-{region}"
    namespace: str = Field(default="argocd", description="namespace Application objects live in")
    tick: float = Field(default=0.01, gt=0, description="real seconds between controller reconciles")
    auto_sync_poll: float = Field(default=0.5, gt=0, description="real seconds between auto-sync checks of the repo")

    def scaled(self, simulated_seconds: float) -> float:
        """Real seconds a simulated duration takes at this speed."""
        return simulated_seconds / self.speed
