"""How long the local cluster takes to start from cached binaries, and a region's hand-off on it, each broken into
its parts measured in the same run and shown as shares of that run's total.

    .venv/bin/python -m bench.cluster                   # 3 start-ups, then 3 canary hand-offs on the last cluster
    .venv/bin/python -m bench.cluster --runs 1 --handoffs 5 --pause 4

Start-up parts run in parallel, so their own durations add up to more than the total; "ready" (when a part
answered its readiness check, counted from the launch) shows the critical path. A hand-off's parts follow one
another: from Rollwright's activity starting to its Application upserted, the sync operation done, the Rollout
first seen, each canary step reached, and Healthy; their shares add up to 1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from activities.contracts import HandoffOutcome
from devstack.cluster import LocalCluster, run_local_cluster
from devstack.cluster.timeline import PartTiming
from rollwright.argocd.follow import Stage
from rollwright.domain.plan import CanaryStep
from rollwright.observability.logging import configure_logging
from tests.handoff.regions import Beat, Region, open_region

PROGRESS_EVERY = 0.2  # seconds between looks at a running hand-off's progress


def _say(text: str) -> None:
    print(text, flush=True)


@dataclass(frozen=True)
class Startup:
    total: float
    parts: dict[str, PartTiming]


def _startup_report(runs: Sequence[Startup]) -> None:
    totals = [run.total for run in runs]
    _say(f"\ncluster start-up, {len(runs)} run(s): total {_spread(totals)}")
    ready: dict[str, list[float]] = defaultdict(list)
    own: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for name, timing in run.parts.items():
            ready[name].append(timing.ready / run.total)
            own[name].append(timing.seconds / run.total)
    order = sorted(ready, key=lambda name: statistics.mean(ready[name]))
    width = max(len(name) for name in order)
    _say(f"  {'part':<{width}}  {'ready at (share of total)':>26}  {'own time (share of total)':>26}")
    for name in order:
        ready_s = statistics.mean(r.parts[name].ready for r in runs if name in r.parts)
        own_s = statistics.mean(r.parts[name].seconds for r in runs if name in r.parts)
        _say(
            f"  {name:<{width}}  {ready_s:>8.2f} s  {statistics.mean(ready[name]):>5.1%}{'':>9}"
            f"  {own_s:>8.2f} s  {statistics.mean(own[name]):>5.1%}"
        )


def _spread(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    return f"mean {statistics.mean(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def _milestones(beats: Sequence[Beat], started: float, ended: float) -> list[tuple[str, float]]:
    """(milestone, seconds since the hand-off started) in order, from its progress reports."""
    found: list[tuple[str, float]] = []
    syncing = [beat for beat in beats if beat.progress.stage is Stage.SYNCING]
    following = [beat for beat in beats if beat.progress.stage is Stage.FOLLOWING]
    if syncing:
        found.append(("Application upserted, sync asked", syncing[0].at - started))
        found.append(("sync operation done", syncing[-1].at - started))
    if following:
        found.append(("Rollout seen", following[0].at - started))
        step = following[0].progress.step_index
        for beat in following[1:]:
            progress = beat.progress
            if progress.step_index != step:
                step = progress.step_index
                found.append((f"step {step}/{progress.step_count} (weight {progress.weight})", beat.at - started))
    found.append(("Healthy (activity returned)", ended - started))
    return found


async def _show_progress(region: Region) -> None:
    """One line per new stage or canary step of the running hand-off."""
    shown = 0
    last: tuple[object, ...] = ()
    while True:
        for beat in region.beats[shown:]:
            progress = beat.progress
            now = (progress.stage, progress.step_index, progress.phase)
            if now != last:
                step = f" step {progress.step_index}/{progress.step_count}" if progress.step_index is not None else ""
                _say(f"    {progress.stage.value}{step} {progress.phase or ''}")
                last = now
        shown = len(region.beats)
        await asyncio.sleep(PROGRESS_EVERY)


async def _hand_off(region: Region, tag: str, steps: list[CanaryStep]) -> list[tuple[str, float]]:
    sha = await region.commit(tag, steps)
    showing = asyncio.create_task(_show_progress(region))
    started = time.monotonic()
    try:
        result = await region.follow(tag, sha)
    finally:
        showing.cancel()
    ended = time.monotonic()
    if result.outcome is not HandoffOutcome.HEALTHY:
        raise RuntimeError(f"hand-off of {tag} ended {result.outcome.value}: {result.reason}")
    return _milestones(region.beats, started, ended)


def _handoff_report(runs: Sequence[list[tuple[str, float]]]) -> None:
    for number, milestones in enumerate(runs, 1):
        total = milestones[-1][1]
        _say(f"\nhand-off {number} (sync → Healthy): total {total:.2f} s")
        width = max(len(name) for name, _ in milestones)
        _say(f"  {'reached':<{width}}  {'at':>10}   {'since the one before (share of total)':>24}")
        previous = 0.0
        for name, at in milestones:
            part = at - previous
            _say(f"  {name:<{width}}  {at:>8.2f} s   {part:>8.2f} s  {part / total:>6.1%}")
            previous = at
    if len(runs) > 1:
        _say(f"\nhand-offs: total {_spread([milestones[-1][1] for milestones in runs])}")


async def _bench(args: argparse.Namespace) -> None:
    steps = [CanaryStep(weight=25, pause=f"{args.pause}s"), CanaryStep(weight=50, pause=f"{args.pause}s")]
    startups: list[Startup] = []
    handoffs: list[list[tuple[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="rollwright-bench-") as scratch:
        for number in range(1, args.runs + 1):
            _say(f"cluster start-up {number}/{args.runs} …")
            async with run_local_cluster(Path(scratch) / f"cluster-{number}") as cluster:
                startups.append(Startup(total=cluster.startup_seconds, parts=dict(cluster.timings)))
                _say(f"  ready in {cluster.startup_seconds:.2f} s")
                if number == args.runs and args.handoffs:
                    handoffs = await _handoffs(cluster, Path(scratch) / "region", steps, args.handoffs)
            _say("  stopped")
    _startup_report(startups)
    if handoffs:
        _handoff_report(handoffs)


async def _handoffs(
    cluster: LocalCluster, workdir: Path, steps: list[CanaryStep], count: int
) -> list[list[tuple[str, float]]]:
    workdir.mkdir(parents=True)
    runs = []
    canary = ", ".join(f"{step.weight}% for {step.pause}" for step in steps)
    async with open_region(cluster, workdir) as region:
        _say("first version (no canary: nothing runs yet) …")
        await _hand_off(region, "v1", steps)
        for number in range(1, count + 1):
            _say(f"hand-off {number}/{count} (canary {canary}) …")
            runs.append(await _hand_off(region, f"v{number + 1}", steps))
    return runs


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cluster start-ups to measure (default 3)")
    parser.add_argument("--handoffs", type=int, default=3, help="canary hand-offs on the last cluster (0: none)")
    parser.add_argument("--pause", type=int, default=2, help="seconds of each canary pause (default 2)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.handoffs < 0 or args.pause < 1:
        parser.error("--runs and --pause must be at least 1, --handoffs at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    configure_logging("console", "WARNING")
    asyncio.run(_bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
