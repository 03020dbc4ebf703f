"""Run the stand-in as a child process for tests and the demo, with helpers for its admin API.

async with run_standin(repo=bare_repo, workdir=tmp_path, speed=200) as standin:
    await standin.fail_versions(digests=[bad_digest])
    ... ArgoCDClient(ArgoCDClientConfig(server=standin.url, token=standin.token)) ...
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from argocd_standin.rules import FailureRule
from argocd_standin.state import Faults
from devstack.ports import free_port
from devstack.process import http_probe, managed_process


@dataclass(frozen=True)
class RunningStandin:
    url: str
    token: str
    state_file: Path
    log_file: Path

    async def _admin(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}) as http:
            response = await http.request(method, f"/standin{path}", json=body)
        if response.is_error:
            raise RuntimeError(f"stand-in admin {method} {path} failed ({response.status_code}): {response.text}")
        return response.json()

    async def register_app(
        self,
        name: str,
        path: str,
        *,
        automated: bool = False,
        service: str | None = None,
        environment: str | None = None,
        region: str | None = None,
    ) -> None:
        body = {"path": path, "automated": automated, "service": service, "environment": environment, "region": region}
        await self._admin("PUT", f"/applications/{name}", body)

    async def set_rules(self, rules: Sequence[FailureRule]) -> None:
        await self._admin("PUT", "/rules", {"rules": [r.model_dump() for r in rules]})

    async def fail_versions(
        self,
        *,
        digests: Sequence[str] = (),
        tag_pattern: str | None = None,
        apps: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
        mode: Literal["analysis", "stall"] = "analysis",
    ) -> None:
        """Make the simulated analysis fail (or pods stall) for matching versions; replaces earlier rules."""
        rule = FailureRule(
            digests=list(digests),
            tag_pattern=tag_pattern,
            apps=list(apps) if apps is not None else None,
            regions=list(regions) if regions is not None else None,
            mode=mode,
        )
        await self.set_rules([rule])

    async def clear_rules(self) -> None:
        await self.set_rules([])

    async def set_faults(
        self, *, error_rate: float = 0.0, latency_ms: float = 0.0, actions_v2: bool = True, seed: int | None = None
    ) -> None:
        faults = Faults(error_rate=error_rate, latency_ms=latency_ms, actions_v2=actions_v2, seed=seed)
        await self._admin("PUT", "/faults", faults.model_dump())

    async def clear_faults(self) -> None:
        await self.set_faults()

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self._admin("GET", "/stats")
        return stats


@contextlib.asynccontextmanager
async def run_standin(
    *,
    repo: Path,
    workdir: Path,
    token: str = "standin-token",
    speed: float = 100.0,
    port: int | None = None,
    state_file: Path | None = None,
    branch: str = "main",
) -> AsyncIterator[RunningStandin]:
    """Start `python -m argocd_standin` on a free port, wait until it answers, and stop it on exit."""
    port = port or free_port()
    state = state_file or workdir / "argocd-standin-state.json"
    log_file = workdir / "argocd-standin.log"
    url = f"http://127.0.0.1:{port}"
    argv = [
        sys.executable,
        "-m",
        "argocd_standin",
        "--port",
        str(port),
        "--state",
        str(state),
        "--repo",
        str(repo),
        "--speed",
        str(speed),
        "--branch",
        branch,
    ]
    cwd = Path(__file__).resolve().parent.parent
    # The token goes through the environment, not argv, so `ps` never shows it.
    env = {**os.environ, "ARGOCD_STANDIN_TOKEN": token}
    probe = http_probe(f"{url}/healthz", timeout=30)
    async with managed_process("argocd-standin", argv, log_file=log_file, probe=probe, env=env, cwd=cwd):
        yield RunningStandin(url=url, token=token, state_file=state, log_file=log_file)
