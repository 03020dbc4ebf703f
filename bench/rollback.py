"""How long a rollback takes by how many regions it undoes: 4 changed regions (the demo's staging and prod's two
waves) against 1 (staging alone), on the demo's stack of real parts, runs interleaved.

    .venv/bin/python -m bench.rollback              # 3 runs of each
    .venv/bin/python -m bench.rollback --runs 5

Each run pushes a new version whose users get 20% 5xx: in staging (its canary fails there, 1 region to undo) or
in prod's second wave (its canary fails there after staging and prod's first wave went live, 4 regions to undo).
A rollback's time is from the deployment turning to rolling_back to the end of the last rollback it caused: the
failing lane's (prod's two waves, newest first, a wave's regions at once) and staging's lane's, which hears of the
rollback as it starts and rolls its region back alongside, behind prod's newest wave for a Pulumi slot. So 4
regions in 3 waves should take about 2 regions' time (prod's two waves), and the goal is at most 3 (the number of
waves), not 4.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from demo import sample
from demo.narrator import Narrator
from demo.stack import DemoStack, start_stack, until
from demo.story import DeploymentHandle, back_times, demo_image, deploy, listed
from devstack.ports import free_port
from devstack.traffic import RunningTraffic
from rollwright.domain.deployment import (
    STATUS_QUERY,
    DeploymentOutcome,
    DeploymentPhase,
    DeploymentStatus,
)
from rollwright.observability.logging import configure_logging

WAVES_OF_FOUR = 3  # staging's one wave and prod's two


class _Quiet(Narrator):
    """Progress only: the chapters and what the bench says itself, not every region's every step."""

    def detail(self, text: str) -> None:
        return None

    def say(self, text: str) -> None:
        if text.startswith(("deployment of", "pushed")):
            super().say(text)


@dataclass
class _Timed:
    started_at: datetime | None = None


def _time_the_rollback(timed: _Timed) -> Callable[[DeploymentHandle], Coroutine[Any, Any, None]]:
    async def meanwhile(handle: DeploymentHandle) -> None:
        async def rolling_back() -> bool:
            with contextlib.suppress(RPCError):
                status = await handle.query(STATUS_QUERY, result_type=DeploymentStatus)
                if status.phase is DeploymentPhase.ROLLING_BACK:
                    timed.started_at = datetime.now(UTC)
            return timed.started_at is not None

        await until(rolling_back, timeout=600, interval=0.1)

    return meanwhile


async def _one_rollback(stack: DemoStack, narrator: Narrator, tag: str, users: RunningTraffic, regions: int) -> float:
    users.fail(demo_image(tag).digest, sample.FAILING_ERROR_RATIO)
    timed = _Timed()
    result = await deploy(stack, narrator, tag, meanwhile=_time_the_rollback(timed))
    # The end of the whole way back: a version failing in prod is also rolled back in staging, by staging's lane.
    ended = datetime.now(UTC)
    undone = result.rolled_back_regions()
    if result.outcome is not DeploymentOutcome.ROLLED_BACK or timed.started_at is None or len(undone) != regions:
        got = f"{len(undone)} in a deployment that ended {result.outcome.value}: {result.reason}"
        raise SystemExit(f"{tag}: expected {regions} region(s) rolled back, got {got}")
    back = back_times([result.last, *result.rollbacks.values()], timed.started_at)
    narrator.chapter(f"  {tag}: back {listed(back, decimals=1)}")
    return (ended - timed.started_at).total_seconds()


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f}s, max {max(values):.1f}s (n={len(values)})"


async def _main(runs: int) -> int:
    narrator = _Quiet()
    with tempfile.TemporaryDirectory(prefix="rollwright-bench-rollback-") as scratch:
        async with start_stack(
            narrator, workdir=Path(scratch) / "demo", temporal_port=free_port(), ui_port=free_port()
        ) as stack:
            narrator.chapter("v1.0.0 live everywhere first (its post-deploy watch included)")
            first = await deploy(stack, narrator, "v1.0.0")
            if first.outcome is not DeploymentOutcome.SUCCEEDED:
                raise SystemExit(f"v1.0.0 did not succeed: {first.reason}")
            one: list[float] = []
            four: list[float] = []
            for run in range(runs):
                narrator.chapter(f"run {run + 1}/{runs}: a version failing in staging, then one failing in prod")
                one.append(await _one_rollback(stack, narrator, f"v2.{run}.0", stack.traffic, 1))
                narrator.chapter(f"  1 region rolled back in {one[-1]:.1f}s")
                four.append(await _one_rollback(stack, narrator, f"v2.{run}.1", stack.wave_two_traffic, 4))
                narrator.chapter(f"  4 regions rolled back in {four[-1]:.1f}s")
    ratio = statistics.median(four) / statistics.median(one)
    print(f"\nrollback of 1 region (staging):             {_spread(one)}")
    print(f"rollback of 4 regions (staging, prod x 2 waves): {_spread(four)}")
    print(f"ratio 4 / 1: {ratio:.2f}x  (goal: at most {WAVES_OF_FOUR}x, the waves; one region after another: 4x)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rollback", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="rollbacks of each size, interleaved")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    configure_logging("console", "WARNING")
    return asyncio.run(_main(args.runs))


if __name__ == "__main__":
    sys.exit(main())
