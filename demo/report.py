"""The demo's closing summary: what is live where, what was rolled back and why, where to look."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from urllib.parse import quote

from demo import sample
from demo.narrator import Narrator
from demo.stack import DemoStack
from rollwright.config.secrets import version_store_url
from rollwright.domain.deployment import DeploymentOutcome, DeploymentResult, RegionPhase
from rollwright.domain.digest import short
from rollwright.versionstore import LiveRegion, VersionRecord, VersionStore


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]


def read_outcome(stack: DemoStack) -> tuple[list[LiveRegion], list[VersionRecord], dict[str, str]]:
    with VersionStore(version_store_url(stack.config.version_store)) as store:
        live = store.live_regions(sample.SERVICE)
        versions = store.versions(sample.SERVICE)
        bad = {v.digest: mark.reason for v in versions if (mark := store.bad_mark(sample.SERVICE, v.digest))}
    return live, versions, bad


def _why_rolled_back(result: DeploymentResult, narrator: Narrator) -> None:
    """The deployment's reason: the region whose canary failed, the AnalysisRun, the metric, what it measured and
    the condition it needed, as the hand-off read them from the real AnalysisRun."""
    if result.outcome is not DeploymentOutcome.ROLLED_BACK:
        narrator.problem(f"{result.tag} was not rolled back: it ended {result.outcome.value}")
        return
    narrator.chapter(f"Why {result.tag} was rolled back")
    for line in textwrap.wrap(result.reason or "(no reason recorded)", width=110):
        narrator.say(line)
    rolled_back = sorted(
        (r for r in result.regions if r.phase is RegionPhase.ROLLED_BACK),
        key=lambda r: r.finished_at or datetime.max.replace(tzinfo=UTC),
    )
    narrator.say("rolled back, last changed first: " + ", ".join(f"{r.environment}/{r.region}" for r in rolled_back))


def print_summary(stack: DemoStack, narrator: Narrator, rolled_back: list[DeploymentResult]) -> None:
    for result in rolled_back:
        _why_rolled_back(result, narrator)
    live, versions, bad = read_outcome(stack)
    narrator.chapter("What is live where")
    rows = [["ENVIRONMENT", "REGION", "TAG", "DIGEST", "SINCE"]]
    rows += [
        [r.target.environment, r.target.region, r.tag, short(r.digest), r.since.strftime("%H:%M:%S")]
        for r in sorted(live, key=lambda r: (r.target.environment != "staging", r.target.region))
    ]
    for line in _table(rows):
        narrator.say(line)
    narrator.chapter("Versions")
    rows = [["TAG", "DIGEST", "STATE", "WHY"]]
    rows += [[v.tag, short(v.digest), v.state.value, bad.get(v.digest, "")[:90]] for v in versions]
    for line in _table(rows):
        narrator.say(line)

    query = quote(f"RollwrightService = '{sample.SERVICE}'")
    narrator.chapter("Where to look")
    narrator.say(f"Temporal UI, all workflows:         {stack.ui_url}/namespaces/default/workflows")
    narrator.say(f"Deployments of {sample.SERVICE}:        {stack.ui_url}/namespaces/default/workflows?query={query}")
    narrator.say(f"GitOps history:                     git --git-dir {stack.workdir / 'gitops.git'} log --oneline")
    narrator.say(f"CLI:  .venv/bin/rollwright --config {stack.config_file} status {sample.SERVICE}")
